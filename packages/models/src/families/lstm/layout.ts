// The packed layout of one LSTM model, and its conversion to and from the batched graph tensors. The packed
// vector is what the model store keeps and what `predict` reads; the graph tensors hold M models side by side
// along a leading model axis, laid out for the batched matrix products of the training and inference graphs.
//
// Packed model (4H^2 + 9H + 4 numbers for H hidden units), gates in PyTorch's order i, f, g, o (H rows each):
//   [mean, std,                      z-score of the training series: z = (y - mean) / std
//    w_ih[4H],                       input weights (PyTorch weight_ih_l0, one input feature)
//    w_hh[4H][H],                    recurrent weights, row-major (PyTorch weight_hh_l0)
//    b[4H],                          gate biases (PyTorch bias_ih_l0 + bias_hh_l0)
//    w_out[H], b_out,                linear head on the last hidden state, on the z scale
//    sigma]                          residual standard deviation on the training windows, in y units
import type { TensorData } from '@loom/ml';

export interface LstmLayout {
  readonly hidden: number;
  /** Length of the packed vector. */
  readonly count: number;
  readonly mean: number;
  readonly std: number;
  readonly wIh: number;
  readonly wHh: number;
  readonly bias: number;
  readonly wOut: number;
  readonly bOut: number;
  readonly sigma: number;
}

export function lstmLayout(hidden: number): LstmLayout {
  const gates = 4 * hidden;
  const wIh = 2;
  const wHh = wIh + gates;
  const bias = wHh + gates * hidden;
  const wOut = bias + gates;
  const bOut = wOut + hidden;
  const sigma = bOut + 1;
  return { hidden, count: sigma + 1, mean: 0, std: 1, wIh, wHh, bias, wOut, bOut, sigma };
}

const GATES = ['i', 'f', 'g', 'o'] as const;

/** One name per packed entry, e.g. `w_hh.f3.7` (forget-gate unit 3, from hidden unit 7). */
export function lstmParamNames(hidden: number): string[] {
  const unit = (r: number): string => `${GATES[Math.floor(r / hidden)]}${r % hidden}`;
  const rows = Array.from({ length: 4 * hidden }, (_, r) => unit(r));
  return [
    'mean', 'std',
    ...rows.map((r) => `w_ih.${r}`),
    ...rows.flatMap((r) => Array.from({ length: hidden }, (_, c) => `w_hh.${r}.${c}`)),
    ...rows.map((r) => `b.${r}`),
    ...Array.from({ length: hidden }, (_, u) => `w_out.${u}`),
    'b_out', 'sigma',
  ];
}

/** Names of the graph tensors, in the order the graphs declare them. */
export const WEIGHT_NAMES = ['w_in', 'w_hh', 'w_out', 'b_out'] as const;
export type WeightName = (typeof WEIGHT_NAMES)[number];
export type GraphWeights = Readonly<Record<WeightName, TensorData>>;

/**
 * Shapes of the graph tensors for `models` models: w_in [M, 4H, 2] (columns w_ih and b), w_hh [M, 4H, H]
 * (PyTorch's, per model), w_out [M, H, 1], b_out [M, 1].
 */
export function weightShapes<D>(models: D, hidden: number): Record<WeightName, readonly (D | number)[]> {
  return {
    w_in: [models, 4 * hidden, 2],
    w_hh: [models, 4 * hidden, hidden],
    w_out: [models, hidden, 1],
    b_out: [models, 1],
  };
}

/** Empty float32 graph tensors for `models` models. */
export function allocateWeights(models: number, hidden: number): GraphWeights {
  const shapes = weightShapes(models, hidden);
  const make = (name: WeightName): TensorData => {
    const shape = shapes[name];
    return { dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
  };
  return { w_in: make('w_in'), w_hh: make('w_hh'), w_out: make('w_out'), b_out: make('b_out') };
}

/** Copies the network part of packed model `packed` into slot `m` of the graph tensors. */
export function packedToGraph(layout: LstmLayout, packed: Float64Array, weights: GraphWeights, m: number): void {
  const h = layout.hidden;
  const gates = 4 * h;
  const [wIn, wHh, wOut, bOut] = WEIGHT_NAMES.map((name) => weights[name].data as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
  for (let r = 0; r < gates; r++) {
    wIn[2 * (m * gates + r)] = packed[layout.wIh + r]!;
    wIn[2 * (m * gates + r) + 1] = packed[layout.bias + r]!;
  }
  wHh.set(packed.subarray(layout.wHh, layout.wHh + gates * h), m * gates * h);
  wOut.set(packed.subarray(layout.wOut, layout.wOut + h), m * h);
  bOut[m] = packed[layout.bOut]!;
}

/** Writes slot `m` of the graph tensors into the network part of `packed` (mean, std and sigma untouched). */
export function graphToPacked(layout: LstmLayout, weights: GraphWeights, m: number, packed: Float64Array): void {
  const h = layout.hidden;
  const gates = 4 * h;
  const [wIn, wHh, wOut, bOut] = WEIGHT_NAMES.map((name) => weights[name].data as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
  for (let r = 0; r < gates; r++) {
    packed[layout.wIh + r] = wIn[2 * (m * gates + r)]!;
    packed[layout.bias + r] = wIn[2 * (m * gates + r) + 1]!;
  }
  packed.set(wHh.subarray(m * gates * h, (m + 1) * gates * h), layout.wHh);
  packed.set(wOut.subarray(m * h, (m + 1) * h), layout.wOut);
  packed[layout.bOut] = bOut[m]!;
}
