// Trains M LSTMs on M z-scored series in lock-step, many Adam steps per onnxruntime call. Each step takes
// `rows` windows per model from a per-model stream of shuffled epochs; a model with fewer windows takes all
// of them and the rest of its rows are padding with loss weight 0 (so is every row of a padding model).
// Initial weights and the window order depend on the seed only, never on a model's slot in the batch, so a
// model trains to the same weights whichever batch it is in.
import { Rng, runSession, type TensorData } from '@loom/ml';
import { LEARNING_RATE, MODEL_LOSS, nextName, ROW_WEIGHTS, TARGETS, WINDOWS } from './graphs.js';
import { allocateWeights, WEIGHT_NAMES, type GraphWeights, type WeightName } from './layout.js';
import { trainingSession } from './sessions.js';

export interface TrainingConfig {
  readonly window: number;
  readonly hidden: number;
  /** Windows per model per step. */
  readonly rows: number;
  readonly steps: number;
  /** Adam's rate at the first step; it decays along a cosine to a tenth of that by the last. */
  readonly learningRate: number;
  readonly seed: number;
}

export interface TrainedGroup {
  readonly weights: GraphWeights;
  /** Each model's loss (mean squared error on the z scale) at each step, [steps, M] row-major. */
  readonly losses: Float32Array;
  /** onnxruntime calls the training took. */
  readonly calls: number;
}

/** Values fed per call at most (windows, targets and row weights of all its steps): bounds a call's memory. */
const FEED_BUDGET = 4 * 1024 * 1024;
const INIT_STREAM = 0x157a;
const ROWS_STREAM = 0x2095;

/**
 * Seeded initial weights, the same in every slot: Glorot-uniform matrices, zero biases except the forget
 * gate's, which start at 1 so early steps keep the cell state (the usual LSTM practice).
 */
function initialWeights(models: number, hidden: number, seed: number): GraphWeights {
  const weights = allocateWeights(models, hidden);
  const gates = 4 * hidden;
  const glorot = (fanIn: number, fanOut: number): number => Math.sqrt(6 / (fanIn + fanOut));
  const uniform = (stream: number, limit: number, size: number): Float32Array => {
    const rng = new Rng(seed, INIT_STREAM, stream);
    return Float32Array.from({ length: size }, () => (2 * rng.uniform() - 1) * limit);
  };
  // w_in's columns are (w_ih, b) per gate row.
  const wIh = uniform(0, glorot(1, gates), gates);
  const perModel: Record<WeightName, Float32Array> = {
    w_in: Float32Array.from({ length: 2 * gates }, (_, j) => (j % 2 === 0 ? wIh[j / 2]! : isForgetGate((j - 1) / 2, hidden) ? 1 : 0)),
    w_hh: uniform(1, glorot(hidden, gates), gates * hidden),
    w_out: uniform(2, glorot(hidden, 1), hidden),
    b_out: new Float32Array(1),
  };
  for (const name of WEIGHT_NAMES) {
    const data = weights[name].data as Float32Array;
    const slot = perModel[name];
    for (let m = 0; m < models; m++) data.set(slot, m * slot.length);
  }
  return weights;
}

function isForgetGate(row: number, hidden: number): boolean {
  return row >= hidden && row < 2 * hidden;
}

/** The next rows of one model: its windows in shuffled epochs, reshuffled each time an epoch runs out. */
class WindowStream {
  private readonly order: Int32Array;
  private cursor: number;
  private readonly rng: Rng;

  constructor(windows: number, seed: number) {
    this.order = Int32Array.from({ length: windows }, (_, i) => i);
    this.cursor = windows;
    this.rng = new Rng(seed, ROWS_STREAM);
  }

  get windows(): number {
    return this.order.length;
  }

  next(): number {
    if (this.cursor === this.order.length) {
      const order = this.order;
      for (let i = order.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1);
        const swap = order[i]!;
        order[i] = order[j]!;
        order[j] = swap;
      }
      this.cursor = 0;
    }
    return this.order[this.cursor++]!;
  }
}

function learningRateAt(config: TrainingConfig, step: number): number {
  const progress = config.steps > 1 ? step / (config.steps - 1) : 0;
  const floor = config.learningRate / 10;
  return floor + (config.learningRate - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * Trains one model per entry of `series` (z-scale values; an empty array is a padding slot that trains on
 * nothing) in one training session of shape M = series.length.
 */
export async function trainGroup(config: TrainingConfig, series: readonly Float64Array[]): Promise<TrainedGroup> {
  const { window, hidden, rows, steps } = config;
  const models = series.length;
  const loaded = await trainingSession({ models, window, hidden, rows });
  let weights: GraphWeights = initialWeights(models, hidden, config.seed);
  let state: Record<string, TensorData> = {};
  for (const slot of loaded.graph.state) {
    state[slot.name] = { dtype: 'float32', shape: slot.shape, data: new Float32Array(slot.shape.reduce((a, b) => a * b, 1)) };
  }
  const streams = series.map((values) => new WindowStream(Math.max(values.length - window, 0), config.seed));
  const stepsPerCall = Math.max(1, Math.floor(FEED_BUDGET / (models * rows * (window + 2))));
  const losses = new Float32Array(steps * models);
  let calls = 0;
  for (let first = 0; first < steps; first += stepsPerCall) {
    const count = Math.min(stepsPerCall, steps - first);
    const perStep = models * rows;
    const windows = new Float32Array(count * perStep * window);
    const targets = new Float32Array(count * perStep);
    const rowWeights = new Float32Array(count * perStep);
    const rates = new Float32Array(count);
    for (let s = 0; s < count; s++) {
      rates[s] = learningRateAt(config, first + s);
      for (let m = 0; m < models; m++) {
        const stream = streams[m]!;
        const values = series[m]!;
        const used = Math.min(rows, stream.windows);
        for (let j = 0; j < used; j++) {
          const start = stream.next();
          const row = s * perStep + m * rows + j;
          // Time-major per model: value t of this window is at [s, m, t, j].
          const column = (s * models + m) * window * rows + j;
          for (let t = 0; t < window; t++) windows[column + t * rows] = values[start + t]!;
          targets[row] = values[start + window]!;
          rowWeights[row] = 1 / used;
        }
      }
    }
    const feeds: Record<string, TensorData> = {
      [WINDOWS]: { dtype: 'float32', shape: [count, models, window, rows], data: windows },
      [TARGETS]: { dtype: 'float32', shape: [count, models, rows], data: targets },
      [ROW_WEIGHTS]: { dtype: 'float32', shape: [count, models, rows], data: rowWeights },
      [LEARNING_RATE]: { dtype: 'float32', shape: [count], data: rates },
      ...weights,
      ...state,
    };
    const results = await runSession(loaded.session, feeds, loaded.graph.outputs);
    calls++;
    const next = (name: string): TensorData => results[nextName(name)] as TensorData;
    weights = Object.fromEntries(WEIGHT_NAMES.map((name) => [name, next(name)])) as Record<WeightName, TensorData>;
    state = Object.fromEntries(Object.keys(state).map((name) => [name, next(name)]));
    losses.set((results[MODEL_LOSS] as TensorData).data as Float32Array, first * models);
  }
  return { weights, losses, calls };
}
