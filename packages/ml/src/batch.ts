// Batches as the trainer takes them (typed arrays or plain numbers, row-major, batch first) and their
// conversion into the tensors the graphs declare: int64 index inputs and labels, float32 features and targets.
import { evaluateDim, formatShape } from './dims.js';
import { MlError } from './errors.js';
import { BATCH, type InputSpec, type ModelSpec } from './model-spec.js';
import type { TensorData } from './tensor-data.js';

export type BatchArray = Float32Array | Float64Array | Int32Array | BigInt64Array | readonly number[];

export interface Batch {
  /** One row-major array per model input, e.g. { chars } for text models. */
  readonly inputs: Readonly<Record<string, BatchArray>>;
  /** Class indices [batch] for classifiers, targets [batch, size] for regression. */
  readonly labels: BatchArray;
}

function toInt64(values: BatchArray): BigInt64Array {
  if (values instanceof BigInt64Array) return values;
  if (values instanceof Float32Array || values instanceof Float64Array || Array.isArray(values)) {
    const numbers = values as ArrayLike<number>;
    for (let i = 0; i < numbers.length; i++) {
      if (!Number.isInteger(numbers[i])) throw new MlError('INVALID_ARGUMENT', `index ${numbers[i]} is not an integer`);
    }
  }
  return BigInt64Array.from(values as ArrayLike<number>, (v) => BigInt(v));
}

function toFloat32(values: BatchArray): Float32Array {
  if (values instanceof Float32Array) return values;
  if (values instanceof BigInt64Array) return Float32Array.from(values, Number);
  return Float32Array.from(values as ArrayLike<number>);
}

export function inputTensor(spec: InputSpec, values: BatchArray, batch: number): TensorData {
  const shape = spec.shape.map((dim) => evaluateDim(dim, { [BATCH]: batch }));
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw new MlError('INVALID_ARGUMENT', `input '${spec.name}' has ${values.length} values, a batch of ${batch} needs ${formatShape(shape)}`);
  }
  return spec.dtype === 'int64'
    ? { dtype: 'int64', shape, data: toInt64(values) }
    : { dtype: 'float32', shape, data: toFloat32(values) };
}

/** The batch size a label array implies for this model. */
export function batchSize(spec: ModelSpec, labels: BatchArray): number {
  const perRow = spec.target.kind === 'classes' ? 1 : spec.target.size;
  if (labels.length === 0 || labels.length % perRow !== 0) {
    throw new MlError('INVALID_ARGUMENT', `${labels.length} labels do not make whole rows of ${perRow}`);
  }
  return labels.length / perRow;
}

export function labelTensor(spec: ModelSpec, labels: BatchArray): TensorData {
  const n = batchSize(spec, labels);
  if (spec.target.kind === 'regression') return { dtype: 'float32', shape: [n, spec.target.size], data: toFloat32(labels) };
  const data = toInt64(labels);
  const classes = spec.target.classes;
  for (const label of data) {
    if (label < 0n || label >= BigInt(classes)) throw new MlError('INVALID_ARGUMENT', `label ${label} is outside [0, ${classes})`);
  }
  return { dtype: 'int64', shape: [n], data };
}

export function inputTensors(spec: ModelSpec, inputs: Readonly<Record<string, BatchArray>>, batch: number): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const input of spec.inputs) {
    const values = inputs[input.name];
    if (values === undefined) throw new MlError('INVALID_ARGUMENT', `batch lacks input '${input.name}'`);
    out[input.name] = inputTensor(input, values, batch);
  }
  const extra = Object.keys(inputs).filter((name) => !spec.inputs.some((input) => input.name === name));
  if (extra.length > 0) throw new MlError('INVALID_ARGUMENT', `batch has unknown inputs: ${extra.join(', ')}`);
  return out;
}

/** Rows of an input array: its length over the product of the input's static dims. */
export function rowsOf(spec: InputSpec, values: BatchArray): number {
  const perRow = spec.shape.slice(1).reduce<number>((a, b) => a * (b as number), 1);
  if (values.length % perRow !== 0) throw new MlError('INVALID_ARGUMENT', `input '${spec.name}' is not whole rows of ${perRow}`);
  return values.length / perRow;
}
