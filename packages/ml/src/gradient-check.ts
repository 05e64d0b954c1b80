// Finite-difference gradient checking: compares the gradients autodiff emits, run in onnxruntime, with
// central differences of the same forward graph. Float64 graphs check to ~1e-9; float32-only ops (Conv) are
// checked through a float64 loss with steps large enough that rounding stays negligible.
import { gradients } from './autodiff.js';
import { isStatic, type Shape } from './dims.js';
import type { FloatType } from './dtype.js';
import { MlError } from './errors.js';
import { GraphBuilder, type Value } from './graph.js';
import { buildModel } from './model-proto.js';
import { cast, mul } from './ops-elementwise.js';
import { reduceSum } from './ops-reduce.js';
import { createSession } from './execution.js';
import { runSession } from './ort-tensors.js';
import { Rng } from './random.js';
import type { TensorData } from './tensor-data.js';

export interface GradientCheckCase {
  /** Float type of the graph's parameters and constants. */
  readonly dtype: FloatType;
  /** Inputs to differentiate with respect to (float tensors of `dtype`). */
  readonly inputs: Readonly<Record<string, TensorData>>;
  /** Inputs held fixed, such as integer indices. */
  readonly fixed?: Readonly<Record<string, TensorData>>;
  /** Declared shapes that differ from the data's, e.g. ['batch', 3] to exercise symbolic batch dims. */
  readonly declaredShapes?: Readonly<Record<string, Shape>>;
  /** Builds the op under test; the output must have a static shape. */
  build(g: GraphBuilder, values: Readonly<Record<string, Value>>): Value;
  /** Central-difference step; 1e-5 suits float64, and an op linear in its inputs allows 1. */
  readonly step?: number;
  readonly seed?: number;
}

export interface GradientCheckResult {
  /** Norm-wise relative error ||analytic - numeric|| / max(||analytic||, ||numeric||) per input. */
  readonly relativeErrors: Readonly<Record<string, number>>;
  readonly maxRelativeError: number;
  /** Op types `build` emitted (not the loss wrapped around them). */
  readonly forwardOps: readonly string[];
  /** Ops in the backward part of the graph, to show which backward ops were exercised. */
  readonly backwardOps: readonly string[];
}

export async function checkGradients(spec: GradientCheckCase): Promise<GradientCheckResult> {
  const g = new GraphBuilder({ dtype: spec.dtype, training: true });
  const values: Record<string, Value> = {};
  for (const [name, data] of Object.entries({ ...spec.inputs, ...(spec.fixed ?? {}) })) {
    values[name] = g.input(name, data.dtype, spec.declaredShapes?.[name] ?? data.shape);
  }
  const y = spec.build(g, values);
  const builtNodes = g.nodes.length;
  if (!isStatic(y.shape)) throw new MlError('INVALID_ARGUMENT', `gradient check needs a static output shape, got ${y}`);
  // loss = sum(y * r) with a fixed random r: every output element gets a distinct weight, so a gradient routed to
  // the wrong element or summed the wrong way changes the result. The loss is float64 whatever y's dtype is.
  const rng = new Rng(spec.seed ?? 7, 1);
  const size = y.shape.reduce((a, b) => a * b, 1);
  const weights = g.constant({ dtype: 'float64', shape: y.shape, data: Float64Array.from({ length: size }, () => rng.normal()) });
  const loss = reduceSum(g, mul(g, cast(g, y, 'float64'), weights), y.shape.map((_, i) => i));
  const forwardNodes = g.nodes.length;
  const names = Object.keys(spec.inputs);
  const grads = gradients(g, loss, names.map((name) => values[name] as Value));
  const backwardOps = [...new Set(g.nodes.slice(forwardNodes).map((node) => node.opType))].sort();
  const forwardOps = [...new Set(g.nodes.slice(0, builtNodes).map((node) => node.opType))].sort();

  const outputs: Record<string, Value> = { loss };
  names.forEach((name, i) => { outputs[`grad_${name}`] = grads[i] as Value; });
  const full = (await createSession(buildModel(g, { outputs }))).session;
  const forward = (await createSession(buildModel(g, { outputs: { loss } }))).session;
  try {
    const feeds: Record<string, TensorData> = { ...spec.inputs, ...(spec.fixed ?? {}) };
    const analytic = await runSession(full, feeds, Object.keys(outputs));
    const lossAt = async (): Promise<number> => Number((await runSession(forward, feeds, ['loss']))['loss']?.data[0]);
    const step = spec.step ?? 1e-5;
    const relativeErrors: Record<string, number> = {};
    for (const name of names) {
      const base = spec.inputs[name] as TensorData;
      const data = base.data.slice() as Float32Array | Float64Array;
      feeds[name] = { ...base, data };
      const numeric = new Float64Array(data.length);
      for (let i = 0; i < data.length; i++) {
        const original = data[i] as number;
        data[i] = original + step;
        const up = await lossAt();
        data[i] = original - step;
        const down = await lossAt();
        data[i] = original;
        // Divide by the step actually taken (float32 rounds x + h), not the nominal one.
        const taken = spec.dtype === 'float32'
          ? Math.fround(original + step) - Math.fround(original - step)
          : (original + step) - (original - step);
        numeric[i] = (up - down) / taken;
      }
      feeds[name] = base;
      const got = analytic[`grad_${name}`]?.data as Float32Array | Float64Array;
      relativeErrors[name] = relativeError(Array.from(got), Array.from(numeric));
    }
    const maxRelativeError = Math.max(...Object.values(relativeErrors));
    return { relativeErrors, maxRelativeError, forwardOps, backwardOps };
  } finally {
    await full.release();
    await forward.release();
  }
}

export function relativeError(a: readonly number[], b: readonly number[]): number {
  let diff = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    const y = b[i] ?? 0;
    diff += (x - y) ** 2;
    na += x * x;
    nb += y * y;
  });
  const scale = Math.sqrt(Math.max(na, nb));
  return scale === 0 ? 0 : Math.sqrt(diff) / scale;
}
