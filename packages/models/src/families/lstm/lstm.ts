// `lstm({ window, hidden })`: a small LSTM forecaster per series. The `window` values before each point,
// z-scored with the training mean and std, go through one LSTM layer of `hidden` units and a linear head
// that predicts the point; the band is forecast +- k sigma, sigma the residual standard deviation on the
// training windows (as for `ar`). Training is batched: `fitBatch` trains many series' networks side by side
// in one onnxruntime session (@loom/ml's autodiff and Adam); `predict` is plain TypeScript, so a stored
// model scores without onnxruntime. The packed layout is in layout.ts.
import { assertFinite, assertLength, assertModel, integerParam, positiveParam } from '../series-checks.js';
import type { FitBatch, Series } from '../evaluate.js';
import type { FitResult, ModelFamily, PredictOptions, Prediction } from '../family.js';
import { FamilyError } from '../errors.js';
import { predictionBuffers } from '../prediction-buffers.js';
import { grown } from '../differencing.js';
// Types only: the trainer (fit-batch.ts and through it @loom/ml and onnxruntime-node) is imported by fitBatch
// when a network is first trained, so a thread that fits other families, or only scores lstm models, never loads it.
import type { LstmBatchOptions, LstmFitBatch } from './fit-batch.js';
import { LstmForward } from './forward.js';
import { lstmLayout, lstmParamNames, type LstmLayout } from './layout.js';
import { fitInHelperThread } from './sync-fit.js';

export interface LstmParams {
  /** Past values each forecast sees, 1..256. */
  readonly window: number;
  /** LSTM units, 1..128. */
  readonly hidden: number;
  /** Band half-width in residual standard deviations. Default 3. */
  readonly k?: number;
  /** Adam steps. Default 300. */
  readonly steps?: number;
  /** Windows per model per step. Default 32. */
  readonly batch?: number;
  /** Adam's initial rate (cosine decay to a tenth of it by the last step). Default 0.01. */
  readonly learningRate?: number;
  /** Seeds the initial weights and the window order. Default 0. */
  readonly seed?: number;
}

export interface LstmFamily extends ModelFamily<Required<LstmParams>> {
  fitBatch(series: readonly (Float64Array | Series)[], options?: LstmBatchOptions): Promise<LstmFitBatch>;
}

export function lstm(params: LstmParams): LstmFamily {
  return new LstmForecaster(params);
}

/** Training windows beyond the window itself that a fit needs at least. */
const MIN_WINDOWS = 10;

export class LstmForecaster implements LstmFamily {
  readonly name = 'lstm';
  readonly params: Readonly<Required<LstmParams>>;
  private readonly layout: LstmLayout;
  private readonly forward: LstmForward;
  private joined = new Float64Array(0);

  constructor(params: LstmParams) {
    this.params = Object.freeze({
      window: integerParam(params?.window, 'window', 'lstm', 1, 256),
      hidden: integerParam(params?.hidden, 'hidden', 'lstm', 1, 128),
      k: positiveParam(params?.k, 'k', 'lstm', 3),
      steps: integerParam(params?.steps, 'steps', 'lstm', 1, 100_000, 300),
      batch: integerParam(params?.batch, 'batch', 'lstm', 1, 4096, 32),
      learningRate: positiveParam(params?.learningRate, 'learningRate', 'lstm', 0.01),
      seed: integerParam(params?.seed, 'seed', 'lstm', 0, 2 ** 31 - 1, 0),
    });
    this.layout = lstmLayout(this.params.hidden);
    this.forward = new LstmForward(this.layout);
  }

  key(): string {
    const { window, hidden, k, steps, batch, learningRate, seed } = this.params;
    return `lstm(window=${window},hidden=${hidden},k=${k},steps=${steps},batch=${batch},rate=${learningRate},seed=${seed})`;
  }

  paramCount(): number {
    return this.layout.count;
  }

  paramNames(): readonly string[] {
    return lstmParamNames(this.params.hidden);
  }

  minTrainPoints(): number {
    return this.params.window + MIN_WINDOWS;
  }

  historyPoints(): number {
    return this.params.window;
  }

  /**
   * One model. The contract is synchronous and onnxruntime-node is not, so this runs fitBatch with one series
   * in a helper thread and blocks until it answers; train many series with fitBatch (or evaluateManyBatched).
   */
  fit(train: Float64Array): FitResult {
    return fitInHelperThread(this.params, train);
  }

  async fitBatch(series: readonly (Float64Array | Series)[], options?: LstmBatchOptions): Promise<LstmFitBatch> {
    const { fitLstmBatch } = await import('./fit-batch.js');
    return fitLstmBatch(this, series, options);
  }

  predict(model: Float64Array, history: Float64Array, test: Float64Array, options?: PredictOptions): Prediction {
    const { window, k } = this.params;
    const layout = this.layout;
    assertModel(model, layout.count, this.key());
    assertLength(history.length, window, 'the history before the test range', this.key());
    assertFinite(history, 'history');
    assertFinite(test, 'test');
    const mean = model[layout.mean]!;
    const std = model[layout.std]!;
    if (!(std > 0)) throw new FamilyError('INVALID_PARAMS', `${this.key()} model has std ${std}; it must be positive`);
    const m = test.length;
    // The last `window` history values then the test values, on the z scale: forecast j reads [j, j + window).
    this.joined = grown(this.joined, window + m);
    const z = this.joined;
    for (let i = 0; i < window; i++) z[i] = (history[history.length - window + i]! - mean) / std;
    for (let j = 0; j < m; j++) z[window + j] = (test[j]! - mean) / std;
    const out = predictionBuffers(options?.out, m);
    const half = k * model[layout.sigma]!;
    for (let j = 0; j < m; j++) {
      const predicted = mean + std * this.forward.run(model, z, j, window);
      out.predicted[j] = predicted;
      out.lower[j] = predicted - half;
      out.upper[j] = predicted + half;
    }
    return out;
  }
}

/** What fitBatch returns for one series, as fit's result (the row's error thrown when it failed). */
export function singleFit(batch: FitBatch): FitResult {
  const failure = batch.failures[0];
  if (failure !== undefined) throw failure.error;
  return { params: batch.params.slice(), trainPoints: batch.trainPoints[0]!, trainRmse: batch.trainRmse[0]!, trainMae: batch.trainMae[0]! };
}
