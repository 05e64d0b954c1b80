// One-step forecasts of every training window of every model by onnxruntime (the inference graph, many
// models side by side): what the residual sigma and the training errors are measured on.
import { runSession, type TensorData } from '@loom/ml';
import { PREDICTION, WINDOWS } from './graphs.js';
import type { GraphWeights } from './layout.js';
import { inferenceSession } from './sessions.js';

/** Windows per inference call at most, over all models: bounds the [M, 4H, R] intermediates. */
const FORECAST_BUDGET = 1024 * 1024;

/**
 * The z-scale one-step forecasts of every window of every series (window w of series m predicts value
 * w + window), by onnxruntime under the trained weights: [M][windows of m].
 */
export async function forecastWindows(window: number, hidden: number, weights: GraphWeights, series: readonly Float64Array[]): Promise<Float32Array[]> {
  const { session } = await inferenceSession(window, hidden);
  const models = series.length;
  const counts = series.map((values) => Math.max(values.length - window, 0));
  const most = Math.max(0, ...counts);
  const out = counts.map((count) => new Float32Array(count));
  const perCall = Math.max(1, Math.floor(FORECAST_BUDGET / (models * 4 * hidden)));
  for (let first = 0; first < most; first += perCall) {
    const rows = Math.min(perCall, most - first);
    const windows = new Float32Array(models * rows * window);
    for (let m = 0; m < models; m++) {
      const values = series[m]!;
      for (let j = 0; j < rows && first + j < counts[m]!; j++) {
        const start = first + j;
        for (let t = 0; t < window; t++) windows[(m * window + t) * rows + j] = values[start + t]!;
      }
    }
    const results = await runSession(session, { [WINDOWS]: { dtype: 'float32', shape: [models, window, rows], data: windows }, ...weights }, [PREDICTION]);
    const predicted = (results[PREDICTION] as TensorData).data as Float32Array;
    for (let m = 0; m < models; m++) {
      const take = Math.min(rows, counts[m]! - first);
      if (take > 0) out[m]!.set(predicted.subarray(m * rows, m * rows + take), first);
    }
  }
  return out;
}
