// Scoring and evaluation on top of any ModelFamily: anomalies from a prediction's band, the metrics record of
// one trained model, and batched fit/evaluate over many series that reuse one set of buffers and return
// columns (one Float64Array of packed parameters, one typed array per metric) ready to become Arrow columns.
// A slice that cannot be fit is recorded as a failure of that row; it never fails the batch.
import { FamilyError } from './errors.js';
import type { ModelFamily, PredictOptions, Prediction } from './family.js';

export interface Scored extends Prediction {
  /** 1 where the actual value lies outside [lower, upper]. */
  readonly anomalies: Uint8Array;
}

/** One-step-ahead forecasts over `test` with their band and the anomalies among the actual values. */
export function score(family: ModelFamily, model: Float64Array, history: Float64Array, test: Float64Array, options?: PredictOptions): Scored {
  const prediction = family.predict(model, history, test, options);
  const anomalies = new Uint8Array(test.length);
  for (let j = 0; j < test.length; j++) anomalies[j] = isAnomaly(test[j]!, prediction, j) ? 1 : 0;
  return { ...prediction, anomalies };
}

function isAnomaly(actual: number, prediction: Prediction, j: number): boolean {
  return actual < prediction.lower[j]! || actual > prediction.upper[j]!;
}

/** A training range and the test range right after it, with optional time stamps. */
export interface Slice {
  readonly train: Float64Array;
  readonly test: Float64Array;
  readonly trainTimes?: Float64Array;
  readonly testTimes?: Float64Array;
}

/** What a trained and evaluated model records besides its packed parameters (NaN where undefined). */
export interface ModelMetrics {
  readonly trainPoints: number;
  readonly testPoints: number;
  readonly trainRmse: number;
  readonly trainMae: number;
  /** Error of the one-step-ahead forecasts over the test range. */
  readonly testRmse: number;
  readonly testMae: number;
  /** Test values outside the band, and their fraction of the test range. */
  readonly anomalies: number;
  readonly anomalyRate: number;
  /** Milliseconds `fit` took. */
  readonly trainMs: number;
}

/** A trained model as the model store's ModelRecord takes it (the store adds id, ranges and split columns). */
export interface EvaluatedModel {
  /** The family's name, e.g. 'ar'. */
  readonly family: string;
  /** The family's key, e.g. 'ar(p=8,d=0,k=3)': models with one key share a params layout. */
  readonly familyKey: string;
  readonly params: Float64Array;
  readonly metrics: ModelMetrics;
}

/** Fits the training range, scores the test range (history: the training range) and returns the record. */
export function evaluate(family: ModelFamily, slice: Slice): EvaluatedModel {
  const batch = evaluateMany(family, [slice]);
  const failure = batch.failures[0];
  if (failure !== undefined) throw failure.error;
  return batchRecord(batch, 0);
}

export interface RowFailure {
  readonly index: number;
  /** A FamilyError code, or 'FIT_FAILED' for any other error a (user-defined) family threw. */
  readonly code: string;
  readonly message: string;
  readonly error: unknown;
}

/** Columns of one batch of fits: row i is series i. Failed rows hold NaN (counts 0) and are listed in failures. */
export interface FitBatch {
  /** The family's name and key (see EvaluatedModel). */
  readonly family: string;
  readonly familyKey: string;
  readonly count: number;
  readonly paramCount: number;
  /** count x paramCount packed parameters, row-major: the child values of a FixedSizeList<Float64> column. */
  readonly params: Float64Array;
  /** 1 where row i was fit (and, for evaluateMany, scored). */
  readonly ok: Uint8Array;
  readonly trainPoints: Int32Array;
  readonly trainRmse: Float64Array;
  readonly trainMae: Float64Array;
  readonly trainMs: Float64Array;
  readonly failures: readonly RowFailure[];
}

export interface EvaluationBatch extends FitBatch {
  readonly testPoints: Int32Array;
  readonly testRmse: Float64Array;
  readonly testMae: Float64Array;
  readonly anomalies: Int32Array;
  readonly anomalyRate: Float64Array;
}

export interface Series {
  readonly values: Float64Array;
  readonly times?: Float64Array;
}

/** Fits one model per series; a series that cannot be fit becomes a failure row. */
export function fitMany(family: ModelFamily, series: readonly (Float64Array | Series)[]): FitBatch {
  const columns = fitColumns(family, series.length);
  const failures: RowFailure[] = [];
  series.forEach((entry, i) => {
    const { values, times } = entry instanceof Float64Array ? { values: entry, times: undefined } : entry;
    try {
      fitRow(family, columns, i, values, times);
    } catch (error) {
      failures.push(rowFailure(i, error));
    }
  });
  return { ...columns, failures };
}

/** Fits and scores one model per slice, reusing one set of prediction buffers across the batch. */
export function evaluateMany(family: ModelFamily, slices: readonly Slice[]): EvaluationBatch {
  const columns = evaluationColumns(fitColumns(family, slices.length));
  const out = sharedPrediction(slices);
  const failures: RowFailure[] = [];
  slices.forEach((slice, i) => {
    try {
      scoreRow(family, columns, i, slice, fitRow(family, columns, i, slice.train, slice.trainTimes), out);
    } catch (error) {
      clearEvaluationRow(columns, i);
      failures.push(rowFailure(i, error));
    }
  });
  return { ...columns, failures };
}

/**
 * fitMany through the family's batched trainer when it has one (`fitBatch`, e.g. lstm's many networks per
 * onnxruntime call), else fitMany itself. The batched result is checked against the family's layout.
 */
export async function fitManyBatched(family: ModelFamily, series: readonly (Float64Array | Series)[]): Promise<FitBatch> {
  if (family.fitBatch === undefined) return fitMany(family, series);
  const batch = await family.fitBatch(series);
  const k = family.paramCount();
  if (batch.count !== series.length || batch.paramCount !== k || batch.params.length !== series.length * k || batch.ok.length !== series.length) {
    throw new FamilyError('INVALID_PARAMS', `${family.key()} fitBatch returned ${batch.count} rows of ${batch.paramCount} parameters for ${series.length} series of ${k}`);
  }
  return batch;
}

/** evaluateMany with the fits made by fitManyBatched; every fitted row is then scored as evaluateMany scores it. */
export async function evaluateManyBatched(family: ModelFamily, slices: readonly Slice[]): Promise<EvaluationBatch> {
  if (family.fitBatch === undefined) return evaluateMany(family, slices);
  const { failures: fitFailures, ...fitted } = await fitManyBatched(family, slices.map((slice) => ({ values: slice.train, ...(slice.trainTimes && { times: slice.trainTimes }) })));
  const columns = evaluationColumns(fitted);
  const out = sharedPrediction(slices);
  const failures: RowFailure[] = [...fitFailures];
  const k = columns.paramCount;
  slices.forEach((slice, i) => {
    if (columns.ok[i] !== 1) return;
    try {
      scoreRow(family, columns, i, slice, columns.params.subarray(i * k, (i + 1) * k), out);
    } catch (error) {
      clearEvaluationRow(columns, i);
      failures.push(rowFailure(i, error));
    }
  });
  failures.sort((a, b) => a.index - b.index);
  return { ...columns, failures };
}

type EvaluationColumns = Omit<EvaluationBatch, 'failures'>;

function evaluationColumns(fitted: FitColumns): EvaluationColumns {
  const count = fitted.count;
  return {
    ...fitted,
    testPoints: new Int32Array(count),
    testRmse: new Float64Array(count).fill(NaN),
    testMae: new Float64Array(count).fill(NaN),
    anomalies: new Int32Array(count),
    anomalyRate: new Float64Array(count).fill(NaN),
  };
}

/** One set of prediction buffers long enough for every slice's test range. */
function sharedPrediction(slices: readonly Slice[]): Prediction {
  const longest = slices.reduce((most, slice) => Math.max(most, slice.test.length), 0);
  return { predicted: new Float64Array(longest), lower: new Float64Array(longest), upper: new Float64Array(longest) };
}

/** Scores row i's fitted model over its slice's test range into the test columns. */
function scoreRow(family: ModelFamily, columns: EvaluationColumns, i: number, slice: Slice, model: Float64Array, out: Prediction): void {
  const { test } = slice;
  const options: PredictOptions = { out, ...(slice.trainTimes && { historyTimes: slice.trainTimes }), ...(slice.testTimes && { testTimes: slice.testTimes }) };
  const prediction = family.predict(model, slice.train, test, options);
  let squares = 0;
  let absolutes = 0;
  let anomalies = 0;
  for (let j = 0; j < test.length; j++) {
    const error = test[j]! - prediction.predicted[j]!;
    squares += error * error;
    absolutes += Math.abs(error);
    if (isAnomaly(test[j]!, prediction, j)) anomalies++;
  }
  const m = test.length;
  columns.testPoints[i] = m;
  columns.testRmse[i] = m > 0 ? Math.sqrt(squares / m) : NaN;
  columns.testMae[i] = m > 0 ? absolutes / m : NaN;
  columns.anomalies[i] = anomalies;
  columns.anomalyRate[i] = m > 0 ? anomalies / m : NaN;
  if (!Number.isFinite(squares)) throw new FamilyError('NON_FINITE', 'the forecasts over the test range are not finite');
}

function clearEvaluationRow(columns: EvaluationColumns, i: number): void {
  clearRow(columns, i);
  columns.testPoints[i] = 0;
  columns.testRmse[i] = columns.testMae[i] = columns.anomalyRate[i] = NaN;
  columns.anomalies[i] = 0;
}

/** Row i of a batch as one record (its params a view into the batch's params column). */
export function batchRecord(batch: EvaluationBatch, i: number): EvaluatedModel {
  const k = batch.paramCount;
  return {
    family: batch.family,
    familyKey: batch.familyKey,
    params: batch.params.subarray(i * k, (i + 1) * k),
    metrics: {
      trainPoints: batch.trainPoints[i]!,
      testPoints: batch.testPoints[i]!,
      trainRmse: batch.trainRmse[i]!,
      trainMae: batch.trainMae[i]!,
      testRmse: batch.testRmse[i]!,
      testMae: batch.testMae[i]!,
      anomalies: batch.anomalies[i]!,
      anomalyRate: batch.anomalyRate[i]!,
      trainMs: batch.trainMs[i]!,
    },
  };
}

export type FitColumns = Omit<FitBatch, 'failures'>;

/** Empty columns for `count` fits (NaN and zero counts until a row is fit). */
export function fitColumns(family: Pick<ModelFamily, 'name' | 'key' | 'paramCount'>, count: number): FitColumns {
  const paramCount = family.paramCount();
  return {
    family: family.name,
    familyKey: family.key(),
    count,
    paramCount,
    params: new Float64Array(count * paramCount).fill(NaN),
    ok: new Uint8Array(count),
    trainPoints: new Int32Array(count),
    trainRmse: new Float64Array(count).fill(NaN),
    trainMae: new Float64Array(count).fill(NaN),
    trainMs: new Float64Array(count).fill(NaN),
  };
}

/** Fits row i into the columns and returns the model (a view of the params column). */
function fitRow(family: ModelFamily, columns: FitColumns, i: number, values: Float64Array, times: Float64Array | undefined): Float64Array {
  const started = performance.now();
  const fit = family.fit(values, times);
  const elapsed = performance.now() - started;
  const k = columns.paramCount;
  if (!(fit.params instanceof Float64Array) || fit.params.length !== k) {
    throw new FamilyError('INVALID_PARAMS', `${columns.familyKey} fit returned ${fit.params instanceof Float64Array ? fit.params.length : typeof fit.params} parameters; its paramCount() is ${k}`);
  }
  const model = columns.params.subarray(i * k, (i + 1) * k);
  model.set(fit.params);
  columns.ok[i] = 1;
  columns.trainPoints[i] = fit.trainPoints;
  columns.trainRmse[i] = fit.trainRmse;
  columns.trainMae[i] = fit.trainMae;
  columns.trainMs[i] = elapsed;
  return model;
}

function clearRow(columns: FitColumns, i: number): void {
  const k = columns.paramCount;
  columns.params.fill(NaN, i * k, (i + 1) * k);
  columns.ok[i] = 0;
  columns.trainPoints[i] = 0;
  columns.trainRmse[i] = columns.trainMae[i] = columns.trainMs[i] = NaN;
}

export function rowFailure(index: number, error: unknown): RowFailure {
  const code = error instanceof FamilyError ? error.code : 'FIT_FAILED';
  const message = error instanceof Error ? error.message : String(error);
  return { index, code, message, error };
}
