// The batched fit of the LSTM family: checks every series (a bad one becomes a failure row, never a failed
// batch), z-scores the rest, trains them in groups of up to `modelsPerCall` models per onnxruntime session,
// measures each model's residuals on its training windows, and packs the models into FitBatch columns.
import { FamilyError } from '../errors.js';
import { fitColumns, rowFailure, type FitBatch, type RowFailure, type Series } from '../evaluate.js';
import { assertFinite, assertLength, isConstant } from '../series-checks.js';
import { trainGroup, type TrainingConfig } from './batch-trainer.js';
import { forecastWindows } from './forecast-windows.js';
import { graphToPacked, lstmLayout } from './layout.js';
import type { LstmFamily } from './lstm.js';
import { MODELS_PER_CALL } from './models-per-call.js';

export { MODELS_PER_CALL };

export interface LstmBatchOptions {
  /** Most models per onnxruntime session call (default 64); a last, smaller group is padded (see sessionSlots). */
  readonly modelsPerCall?: number;
}

/** How a batch trained: what the numbers of models per call and models per second are made of. */
export interface LstmTraining {
  /** Models per call of each group (padding slots included), in order. */
  readonly groups: readonly number[];
  /** onnxruntime training calls over all groups. */
  readonly calls: number;
  /** Mean z-scale training loss of the fitted models at each step (the batch's learning curve). */
  readonly lossCurve: Float64Array;
  readonly seconds: number;
}

export interface LstmFitBatch extends FitBatch {
  readonly training: LstmTraining;
}

export async function fitLstmBatch(family: LstmFamily, series: readonly (Float64Array | Series)[], options: LstmBatchOptions = {}): Promise<LstmFitBatch> {
  const started = performance.now();
  const modelsPerCall = options.modelsPerCall ?? MODELS_PER_CALL;
  if (!(Number.isInteger(modelsPerCall) && modelsPerCall >= 1)) {
    throw new FamilyError('INVALID_PARAMS', `modelsPerCall must be a positive integer, got ${String(modelsPerCall)}`);
  }
  const { window, hidden, batch, steps, learningRate, seed } = family.params;
  const config: TrainingConfig = { window, hidden, rows: batch, steps, learningRate, seed };
  const key = family.key();
  const minTrainPoints = family.minTrainPoints();
  const layout = lstmLayout(hidden);
  const columns = fitColumns(family, series.length);
  const failures: RowFailure[] = [];
  const accepted: { index: number; values: Float64Array }[] = [];
  series.forEach((entry, index) => {
    const values = entry instanceof Float64Array ? entry : entry.values;
    try {
      assertFinite(values, 'training');
      assertLength(values.length, minTrainPoints, 'the training series', key);
      if (isConstant(values, values.length)) throw new FamilyError('SINGULAR', 'the training series is constant: it has no spread to z-score by');
      accepted.push({ index, values });
    } catch (error) {
      failures.push(rowFailure(index, error));
    }
  });

  const groups: number[] = [];
  let calls = 0;
  // NaN when nothing trained: a curve of zeros would read as a perfect fit.
  const lossCurve = new Float64Array(config.steps).fill(accepted.length > 0 ? 0 : NaN);
  for (let first = 0; first < accepted.length; first += modelsPerCall) {
    const members = accepted.slice(first, first + modelsPerCall);
    const groupStarted = performance.now();
    const normal = members.map(({ values }) => zScore(values));
    const slots = sessionSlots(members.length, modelsPerCall);
    const padded = [...normal.map((z) => z.values), ...Array.from({ length: slots - members.length }, () => new Float64Array(0))];
    const trained = await trainGroup(config, padded);
    const forecasts = await forecastWindows(config.window, config.hidden, trained.weights, padded);
    groups.push(slots);
    calls += trained.calls;
    for (let s = 0; s < config.steps; s++) {
      for (let m = 0; m < members.length; m++) lossCurve[s] = lossCurve[s]! + trained.losses[s * slots + m]! / accepted.length;
    }
    const perModelMs = (performance.now() - groupStarted) / members.length;
    members.forEach(({ index, values }, m) => {
      const { mean, std, values: z } = normal[m]!;
      const model = columns.params.subarray(index * layout.count, (index + 1) * layout.count);
      model[layout.mean] = mean;
      model[layout.std] = std;
      graphToPacked(layout, trained.weights, m, model);
      const predicted = forecasts[m]!;
      let squares = 0;
      let absolutes = 0;
      for (let w = 0; w < predicted.length; w++) {
        const error = (z[w + config.window]! - predicted[w]!) * std;
        squares += error * error;
        absolutes += Math.abs(error);
      }
      const sigma = Math.sqrt(squares / predicted.length);
      model[layout.sigma] = sigma;
      if (!model.every(Number.isFinite)) {
        model.fill(NaN);
        failures.push(rowFailure(index, new FamilyError('NOT_CONVERGED', `${key}: training diverged (non-finite weights or residuals)`)));
        return;
      }
      columns.ok[index] = 1;
      columns.trainPoints[index] = values.length;
      columns.trainRmse[index] = sigma;
      columns.trainMae[index] = absolutes / predicted.length;
      columns.trainMs[index] = perModelMs;
    });
  }
  failures.sort((a, b) => a.index - b.index);
  const training: LstmTraining = { groups, calls, lossCurve, seconds: (performance.now() - started) / 1000 };
  return { ...columns, failures, training };
}

/**
 * Models per session for a group of `count`: padding slots train on nothing but cost as much as a model, and
 * each session shape costs a build, a slow first run and its memory, so a smaller last group is rounded up
 * to a power of two (at most log2(modelsPerCall) + 1 shapes per thread).
 */
export function sessionSlots(count: number, modelsPerCall: number): number {
  return Math.min(modelsPerCall, 2 ** Math.ceil(Math.log2(count)));
}

function zScore(values: Float64Array): { mean: number; std: number; values: Float64Array } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  const std = Math.sqrt(squares / values.length);
  return { mean, std, values: values.map((v) => (v - mean) / std) };
}
