// The LSTM forward pass over one window in plain TypeScript (float64), so a stored model scores without
// onnxruntime: h = c = 0, then for each value x of the window z = b + w_ih x + w_hh h, gates i, f, g, o,
// c = sigmoid(f) c + sigmoid(i) tanh(g), h = sigmoid(o) tanh(c); the forecast is w_out . h + b_out (z scale).
import type { LstmLayout } from './layout.js';

export class LstmForward {
  private readonly h: Float64Array;
  private readonly c: Float64Array;
  private readonly z: Float64Array;

  constructor(private readonly layout: LstmLayout) {
    this.h = new Float64Array(layout.hidden);
    this.c = new Float64Array(layout.hidden);
    this.z = new Float64Array(4 * layout.hidden);
  }

  /** The z-scale forecast after the z-scale window `values[start .. start + length)`. */
  run(model: Float64Array, values: ArrayLike<number>, start: number, length: number): number {
    const { hidden: n, wIh, wHh, bias, wOut, bOut } = this.layout;
    const { h, c, z } = this;
    h.fill(0);
    c.fill(0);
    for (let t = 0; t < length; t++) {
      const x = values[start + t]!;
      for (let r = 0; r < 4 * n; r++) {
        let sum = model[bias + r]! + model[wIh + r]! * x;
        const row = wHh + r * n;
        for (let k = 0; k < n; k++) sum += model[row + k]! * h[k]!;
        z[r] = sum;
      }
      for (let u = 0; u < n; u++) {
        const cell = sigmoid(z[n + u]!) * c[u]! + sigmoid(z[u]!) * Math.tanh(z[2 * n + u]!);
        c[u] = cell;
        h[u] = sigmoid(z[3 * n + u]!) * Math.tanh(cell);
      }
    }
    let out = model[bOut]!;
    for (let u = 0; u < n; u++) out += model[wOut + u]! * h[u]!;
    return out;
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
