// Weight sets: named float32 tensors for a model's parameters. Seeded initialization from each ParamSpec,
// validation against a model, copying, and the element-wise average that data-parallel replicas exchange.
import { MlError } from './errors.js';
import type { Init, ModelSpec, ParamSpec } from './model-spec.js';
import { Rng } from './random.js';
import { cloneTensor, type TensorData } from './tensor-data.js';
import { formatShape, sameShape } from './dims.js';

export type WeightSet = Record<string, TensorData>;

/** Stream key for initialization, so init draws never coincide with dropout draws of the same seed. */
const INIT_STREAM = 0x1417;

export function heNormal(fanIn: number): Init {
  return { kind: 'normal', std: Math.sqrt(2 / fanIn) };
}

export function glorotUniform(fanIn: number, fanOut: number): Init {
  return { kind: 'uniform', limit: Math.sqrt(6 / (fanIn + fanOut)) };
}

export function initialWeights(spec: ModelSpec, seed: number): WeightSet {
  const weights: WeightSet = {};
  spec.params.forEach((param, i) => {
    // One stream per parameter: adding a layer does not change how the others start.
    const rng = new Rng(seed, INIT_STREAM, i);
    const size = param.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const init = param.init;
    for (let j = 0; j < size; j++) {
      data[j] = init.kind === 'normal' ? rng.normal() * init.std
        : init.kind === 'uniform' ? (2 * rng.uniform() - 1) * init.limit
          : init.value;
    }
    weights[param.name] = { dtype: 'float32', shape: [...param.shape], data };
  });
  return weights;
}

export function checkWeights(params: readonly ParamSpec[], weights: Readonly<WeightSet>, what: string): void {
  for (const param of params) {
    const value = weights[param.name];
    if (value === undefined) throw new MlError('CHECKPOINT_MISMATCH', `${what} lacks parameter '${param.name}'`);
    if (value.dtype !== 'float32' || !sameShape(value.shape, param.shape) || value.data.length !== value.shape.reduce((a, b) => a * b, 1)) {
      throw new MlError('CHECKPOINT_MISMATCH',
        `${what}: '${param.name}' is ${value.dtype}${formatShape(value.shape)}, the model wants float32${formatShape(param.shape)}`);
    }
  }
  const extra = Object.keys(weights).filter((name) => !params.some((p) => p.name === name));
  if (extra.length > 0) throw new MlError('CHECKPOINT_MISMATCH', `${what} has unknown parameters: ${extra.join(', ')}`);
}

export function copyWeights(weights: Readonly<WeightSet>): WeightSet {
  const out: WeightSet = {};
  for (const [name, value] of Object.entries(weights)) out[name] = cloneTensor(value);
  return out;
}

/** The element-wise mean of several replicas' weights (parameter averaging). */
export function averageWeights(sets: readonly Readonly<WeightSet>[]): WeightSet {
  const [first] = sets;
  if (first === undefined) throw new MlError('INVALID_ARGUMENT', 'averageWeights needs at least one weight set');
  const out: WeightSet = {};
  for (const [name, value] of Object.entries(first)) {
    const sum = new Float64Array(value.data.length);
    for (const set of sets) {
      const other = set[name];
      if (other === undefined || !sameShape(other.shape, value.shape)) {
        throw new MlError('CHECKPOINT_MISMATCH', `weight sets disagree on '${name}'`);
      }
      const data = other.data as Float32Array;
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (data[i] as number);
    }
    out[name] = { dtype: 'float32', shape: [...value.shape], data: Float32Array.from(sum, (x) => x / sets.length) };
  }
  return out;
}
