// The two onnxruntime graphs of the LSTM family, built with @loom/ml. Both hold M models side by side along a
// leading model axis: every weight is [M, ...] and the recurrent product is one batched MatMul, [M, 4H, H] x
// [M, H, R] for R windows per model, so M independent networks run in one call. The training graph's loss is the sum of the models'
// own losses: the gradient of a sum with respect to model m's weights is the gradient of model m's loss alone,
// and Adam updates element-wise, so the models train in lock-step yet exactly as they would one by one.
import {
  buildModel, GraphBuilder, gradients, loopOverSteps, ops, optimizerStep, type Dim, type OptimizerConfig, type Value,
} from '@loom/ml';
import { WEIGHT_NAMES, weightShapes, type WeightName } from './layout.js';

/**
 * Per-step inputs: z-scale windows time-major, [M, window, R] (column r of model m is one window), the value
 * after each [M, R], and each row's loss weight [M, R].
 */
export const WINDOWS = 'windows';
export const TARGETS = 'targets';
export const ROW_WEIGHTS = 'row_weights';
export const LEARNING_RATE = 'learning_rate';
/** Per-step outputs: each model's weighted squared error [M], and their sum. */
export const MODEL_LOSS = 'model_loss';
export const LOSS = 'loss';
/** The inference graph's output: the z-scale forecast of every window [M, R]. */
export const PREDICTION = 'prediction';

/** Plain Adam, no clipping and no weight decay: a global gradient norm would couple the models. */
const ADAM: OptimizerConfig = { kind: 'adam' };

export interface TrainingShape {
  readonly models: number;
  readonly window: number;
  readonly hidden: number;
  /** Windows per model per step. */
  readonly rows: number;
}

export interface TrainingModel {
  /** Runs as many steps per call as its per-step inputs hold (stacked along a leading steps axis). */
  readonly model: Uint8Array;
  /** Adam's state tensors (moments and the step counter), fed zeros at the start. */
  readonly state: readonly { readonly name: string; readonly shape: readonly number[] }[];
  /** Every output name: `${name}.next` for weights and state, then the per-step loss outputs. */
  readonly outputs: readonly string[];
}

/** The output holding a carried tensor's value after a call's last step. */
export function nextName(name: string): string {
  return `${name}.next`;
}

/**
 * z-scale forecasts [M, R] of the windows [M, window, R] under each model's weights. States are hidden-major,
 * [M, H, R], so the gates of z [M, 4H, R] are contiguous blocks. The input and bias terms are one product,
 * w_in [M, 4H, 2] x [x; 1] [M, 2, R]: their gradients are then one product too, where a broadcast multiply
 * and add cost a summing pass each (together nearly half a training step).
 */
function forward(g: GraphBuilder, windows: Value, w: Readonly<Record<WeightName, Value>>, window: number, hidden: number): Value {
  let h: Value | undefined;
  let c: Value | undefined;
  let ones: Value | undefined;
  for (let t = 0; t < window; t++) {
    const x = ops.slice(g, windows, [{ axis: 1, start: t, end: t + 1 }]);
    ones ??= ops.expandLike(g, g.scalar(1), x);
    let z = ops.matMul(g, w.w_in, ops.concat(g, [x, ones], 1));
    if (h !== undefined) z = ops.add(g, z, ops.matMul(g, w.w_hh, h));
    const [i, f, candidate, o] = ops.split(g, z, 1, [hidden, hidden, hidden, hidden]) as [Value, Value, Value, Value];
    const write = ops.mul(g, ops.sigmoid(g, i), ops.tanh(g, candidate));
    c = c === undefined ? write : ops.add(g, ops.mul(g, ops.sigmoid(g, f), c), write);
    h = ops.mul(g, ops.sigmoid(g, o), ops.tanh(g, c));
  }
  // The head as a product and a sum over the hidden axis: a MatMul with one output row gains nothing.
  return ops.add(g, ops.reduceSum(g, ops.mul(g, h as Value, w.w_out), [1]), w.b_out);
}

export function buildTrainingModel(shape: TrainingShape): TrainingModel {
  const { models, window, hidden, rows } = shape;
  const g = new GraphBuilder({ dtype: 'float32', training: true });
  const windows = g.input(WINDOWS, 'float32', [models, window, rows]);
  const targets = g.input(TARGETS, 'float32', [models, rows]);
  const rowWeights = g.input(ROW_WEIGHTS, 'float32', [models, rows]);
  const shapes = weightShapes(models, hidden);
  const params = WEIGHT_NAMES.map((name) => g.param(name, shapes[name]));
  const weights = Object.fromEntries(WEIGHT_NAMES.map((name, i) => [name, params[i] as Value])) as Record<WeightName, Value>;
  const error = ops.sub(g, forward(g, windows, weights, window, hidden), targets);
  const modelLoss = ops.reduceSum(g, ops.mul(g, ops.mul(g, error, error), rowWeights), [1]);
  const loss = ops.reduceSum(g, modelLoss, [0]);
  const step = optimizerStep(g, params, gradients(g, loss, params), g.input(LEARNING_RATE, 'float32', []), ADAM);
  const outputs: Record<string, Value> = {};
  const carried = new Map<string, string>();
  const carry = (name: string, next: Value): void => {
    outputs[nextName(name)] = next;
    carried.set(name, nextName(name));
  };
  params.forEach((param, i) => carry(param.name, step.updated[i] as Value));
  for (const slot of step.state) carry(slot.name, slot.output);
  outputs[MODEL_LOSS] = modelLoss;
  outputs[LOSS] = loss;
  const oneStep = buildModel(g, { outputs, graphName: 'lstm-many-train', docString: `Loom: ${models} LSTMs trained side by side` });
  return {
    model: loopOverSteps(oneStep, carried),
    state: step.state.map(({ name, shape: slotShape }) => ({ name, shape: slotShape })),
    outputs: Object.keys(outputs),
  };
}

/** Forecasts of every window under each model's weights; models and windows per model are symbolic dims. */
export function buildInferenceModel(window: number, hidden: number): Uint8Array {
  const models: Dim = 'models';
  const g = new GraphBuilder({ dtype: 'float32', training: false });
  const windows = g.input(WINDOWS, 'float32', [models, window, 'rows']);
  const shapes = weightShapes(models, hidden);
  const weights = Object.fromEntries(WEIGHT_NAMES.map((name) => [name, g.input(name, 'float32', shapes[name])])) as Record<WeightName, Value>;
  const prediction = forward(g, windows, weights, window, hidden);
  return buildModel(g, { outputs: { [PREDICTION]: prediction }, graphName: 'lstm-many-forecast', docString: 'Loom: LSTM forecasts, many models side by side' });
}
