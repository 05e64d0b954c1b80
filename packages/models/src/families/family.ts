// The contract every model family implements, built-in (ar, arima, seasonal) or user-defined (loaded by module
// reference). A family is a trainer plus a scorer over plain typed arrays: pure, synchronous, no I/O, so it
// runs inside task threads; a trained model is one fixed-length Float64Array whose layout the family documents.
import type { FitBatch, Series } from './evaluate.js';

/** What `fit` returns: the packed model and its in-sample error. */
export interface FitResult {
  /** The model: `paramCount()` numbers in the family's documented layout; everything `predict` needs. */
  readonly params: Float64Array;
  /** Training values the fit was given (including those consumed by lags and differencing). */
  readonly trainPoints: number;
  /** Root mean square of the in-sample one-step-ahead residuals (over the values the model can predict). */
  readonly trainRmse: number;
  /** Mean absolute in-sample one-step-ahead residual. */
  readonly trainMae: number;
}

/** One-step-ahead forecasts over a test range with the family's band: a value outside [lower, upper] is an anomaly. */
export interface Prediction {
  readonly predicted: Float64Array;
  readonly lower: Float64Array;
  readonly upper: Float64Array;
}

export interface PredictOptions {
  /** Time stamps of the history values (families that are phase- or time-aware use them). */
  readonly historyTimes?: Float64Array;
  /** Time stamps of the test values. */
  readonly testTimes?: Float64Array;
  /**
   * Buffers to write into instead of allocating, each at least `test.length` long: the first `test.length`
   * entries receive the result and `out` itself is returned. Lets a batch reuse one set of buffers.
   */
  readonly out?: Prediction;
}

/**
 * A model family. `P` is its parameter object, which must survive JSON (the model store records it, and a task
 * thread rebuilds the family from it). Implementations may keep scratch buffers between calls (calls are
 * synchronous, so one instance is never re-entered) but no other state: a model is its params vector only.
 */
export interface ModelFamily<P extends object = object> {
  /** Short family name, e.g. 'ar'. */
  readonly name: string;
  /** The family's parameters, e.g. `{ p: 8, d: 0, k: 3 }`. */
  readonly params: Readonly<P>;
  /** Stable id of family and parameters, e.g. 'ar(p=8,d=0,k=3)': anything that changes a fit or a score changes it. */
  key(): string;
  /** Length of every packed parameter vector this family produces. */
  paramCount(): number;
  /** One name per packed parameter, in layout order (for stores, CLIs and other runtimes). */
  paramNames(): readonly string[];
  /** The fewest training values `fit` accepts. */
  minTrainPoints(): number;
  /** The fewest values `predict` needs before the test range (the training series is always enough). */
  historyPoints(): number;
  /** Trains one model; throws a FamilyError (TOO_SHORT, NON_FINITE, SINGULAR, ...) when it cannot. */
  fit(train: Float64Array, times?: Float64Array): FitResult;
  /**
   * Optional: fits one model per series in one go, for families that gain from training many models together
   * (lstm trains many networks per onnxruntime call). Row i is series i, a series that cannot be fit is a
   * failure row (as in fitMany), and each row's model is what `fit` would give. fitManyBatched and
   * evaluateManyBatched use it when present.
   */
  fitBatch?(series: readonly (Float64Array | Series)[]): Promise<FitBatch>;
  /**
   * One-step-ahead forecasts of each test value given the actual values before it (history, then the test
   * values already seen), with the anomaly band.
   */
  predict(model: Float64Array, history: Float64Array, test: Float64Array, options?: PredictOptions): Prediction;
}
