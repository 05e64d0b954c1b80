// driftBatch: one task of detectDrift. Like scoreBatch it takes the group from the worker process's shared cache
// and reads each source once, here over each slice's training and test ranges; it then compares the slice's
// recent (test) values with its training values by the chosen method (drift/), giving page-hinkley the model's
// one-step residuals over both, computed with `predict` in the same task. Answers with columns, one row per
// slice; a slice that cannot be tested is a failed row with its reason.
import { isDriftError, type DriftMethod, type DriftOptions } from '../drift/drift-method.js';
import { driftStatistic } from '../drift/drift-statistic.js';
import type { ModelBatchSpec, ModelBatchStats } from '../score-many/score-wire.js';
import { forEachSource } from './batch-sources.js';
import { checkModelBatch, newStats, predictRow } from './score-batch.js';
import { failureColumns, type RowFailure } from './row-failures.js';
import { emptyRange, rowsIn, sliceModels, type SliceModel } from './slice-models.js';
import { isProblem } from './source-data.js';

export interface DriftBatchSpec extends ModelBatchSpec {
  method: DriftMethod;
  options: DriftOptions;
}

/** Row i is slice i of the batch; failed rows hold NaN and drifted 0. */
export interface DriftBatchResult {
  statistic: Float64Array;
  /** ks: the uncorrected p-value; NaN for the other methods. */
  pValue: Float64Array;
  threshold: Float64Array;
  drifted: Uint8Array;
  /** page-hinkley: the time of the value at which the alarm fired; NaN otherwise. */
  changeAt: Float64Array;
  /** Values compared: training (reference) and test (recent). */
  referencePoints: Int32Array;
  recentPoints: Int32Array;
  failedIndex: Uint32Array;
  failedCode: string[];
  failedMessage: string[];
  stats: ModelBatchStats;
}

export async function driftBatch(spec: DriftBatchSpec): Promise<DriftBatchResult> {
  checkModelBatch(spec, 'driftBatch');
  const stats = newStats();
  const { models, failures } = await sliceModels(spec, stats);
  const n = spec.ids.length;
  const result = {
    statistic: new Float64Array(n).fill(NaN),
    pValue: new Float64Array(n).fill(NaN),
    threshold: new Float64Array(n).fill(NaN),
    drifted: new Uint8Array(n),
    changeAt: new Float64Array(n).fill(NaN),
    referencePoints: new Int32Array(n),
    recentPoints: new Int32Array(n),
  };
  // Only the slices with a model are read.
  const reads = new Float64Array(spec.ranges.length);
  models.forEach((model, row) => {
    if (model !== undefined) reads.set(spec.ranges.subarray(4 * row, 4 * row + 4), 4 * row);
  });
  await forEachSource({ timeColumn: spec.timeColumn, sources: spec.sources, ranges: reads }, stats, (source, data) => {
    const started = performance.now();
    for (let row = source.first; row < source.first + source.count; row++) {
      const model = models[row];
      if (model === undefined) continue;
      const column = isProblem(data) ? data : data.columns[spec.columnOf[row] as number];
      if (column === undefined || isProblem(column)) {
        failures.push([row, column?.code ?? 'MISSING_COLUMN', column?.message ?? `batch row ${row} names no column of its source`]);
        continue;
      }
      const times = (data as { times: Float64Array }).times;
      const r = reads.subarray(4 * row, 4 * row + 4);
      const [a, b] = rowsIn(times, r[0] as number, r[1] as number);
      const [c, d] = rowsIn(times, r[2] as number, r[3] as number);
      const name = source.columns[spec.columnOf[row] as number];
      if (a === b || c === d) {
        failures.push(a === b ? emptyRange(row, 'train', r[0] as number, r[1] as number, source.rangeKind, name) : emptyRange(row, 'test', r[2] as number, r[3] as number, source.rangeKind, name));
        continue;
      }
      const slice = { reference: column.subarray(a, b), recent: column.subarray(c, d), referenceTimes: times.subarray(a, b), recentTimes: times.subarray(c, d) };
      testSlice(row, model, slice, spec, result, failures);
    }
    stats.fitMs += performance.now() - started;
  });
  return { ...result, ...failureColumns(failures), stats };
}

interface DriftSlice {
  reference: Float64Array;
  recent: Float64Array;
  referenceTimes: Float64Array;
  recentTimes: Float64Array;
}

type Columns = Omit<DriftBatchResult, 'failedIndex' | 'failedCode' | 'failedMessage' | 'stats'>;

function testSlice(row: number, model: SliceModel, slice: DriftSlice, spec: DriftBatchSpec, result: Columns, failures: RowFailure[]): void {
  const { reference, recent, referenceTimes, recentTimes } = slice;
  let residuals: Float64Array | undefined;
  let referenceResiduals: Float64Array | undefined;
  if (spec.method === 'page-hinkley') {
    const forecast = predictRow(row, model, reference, recent, referenceTimes, recentTimes, failures);
    if (forecast === undefined) return;
    residuals = recent.map((value, i) => value - (forecast.predicted[i] as number));
    // The detector's warm-up: in-sample residuals over the tail of the training values (drift/README).
    const split = Math.max(model.family.historyPoints(), reference.length - (spec.options.phWarmUp ?? recent.length));
    if (split < reference.length) {
      const tail = reference.subarray(split);
      const inSample = predictRow(row, model, reference.subarray(0, split), tail, referenceTimes.subarray(0, split), referenceTimes.subarray(split), failures);
      if (inSample === undefined) return;
      referenceResiduals = tail.map((value, i) => value - (inSample.predicted[i] as number));
    }
  }
  try {
    const outcome = driftStatistic(spec.method, {
      reference,
      recent,
      ...(residuals === undefined ? {} : { residuals, residualScale: model.record.metrics.trainRmse }),
      ...(referenceResiduals === undefined ? {} : { referenceResiduals }),
    }, spec.options);
    result.statistic[row] = outcome.statistic;
    result.pValue[row] = outcome.pValue ?? NaN;
    result.threshold[row] = outcome.threshold;
    result.drifted[row] = outcome.drifted ? 1 : 0;
    if (outcome.changeIndex !== undefined) result.changeAt[row] = recentTimes[outcome.changeIndex] ?? NaN;
    result.referencePoints[row] = reference.length;
    result.recentPoints[row] = recent.length;
  } catch (error) {
    failures.push([row, isDriftError(error) ? error.code : 'DRIFT_FAILED', error instanceof Error ? error.message : String(error)]);
  }
}
