// scoreBatch: one task of scoreMany. It takes the group from the worker process's shared cache (read once per
// process), finds each slice's model and family, reads each source of the batch once (only the test ranges and
// the history before them that the models need), forecasts each test range one step ahead with `predict`, and
// answers with an Arrow table of scored rows. A slice without a model, or whose data cannot be read or scored,
// is listed in the table's schema metadata with its reason; only a malformed batch fails the task.
import { threadId } from 'node:worker_threads';
import type { Table } from 'apache-arrow';
import { isFamilyError } from '../families/errors.js';
import type { Prediction } from '../families/family.js';
import { SCORE_FAILURES_KEY, SCORE_STATS_KEY, type ModelBatchSpec, type ModelBatchStats, type ScoreBatchSpec } from '../score-many/score-wire.js';
import type { StoredModel } from '../store/model-record.js';
import { TrainManyError } from '../train-many/errors.js';
import { forEachSource } from './batch-sources.js';
import { emptyRange, rowsIn, sliceModels, type RowFailure, type SliceModel } from './slice-models.js';
import { ScoreTableBuilder } from './score-table.js';
import { isProblem } from './source-data.js';

/**
 * History read before each test range, in multiples of the values `predict` needs (at the model's training
 * spacing): room for gaps, and a longer run-in for families whose forecasts use all the history they get
 * (arima's moving-average part starts its error recursion at zero).
 */
const HISTORY_SLACK = 4;

export async function scoreBatch(spec: ScoreBatchSpec): Promise<Table> {
  checkModelBatch(spec, 'scoreBatch');
  const stats = newStats();
  const { models, failures } = await sliceModels(spec, stats);
  const reads = new Float64Array(spec.ranges.length);
  models.forEach((model, row) => {
    if (model === undefined) return;
    const testFrom = spec.ranges[4 * row + 2] as number;
    reads[4 * row] = testFrom - historySpan(model.record, model.family.historyPoints());
    reads[4 * row + 1] = testFrom;
    reads[4 * row + 2] = testFrom;
    reads[4 * row + 3] = spec.ranges[4 * row + 3] as number;
  });
  const out = new ScoreTableBuilder();
  await forEachSource({ timeColumn: spec.timeColumn, sources: spec.sources, ranges: reads }, stats, (source, data) => {
    const started = performance.now();
    for (let row = source.first; row < source.first + source.count; row++) {
      const model = models[row];
      if (model === undefined) continue;
      const column = isProblem(data) ? data : data.columns[spec.columnOf[row] as number];
      if (column === undefined) throw new TrainManyError('BAD_BATCH', `batch row ${row} names column ${spec.columnOf[row]} of a source with ${source.columns.length}`);
      if (isProblem(column)) {
        failures.push([row, column.code, column.message]);
        continue;
      }
      const times = (data as { times: Float64Array }).times;
      const [testFrom, testTo] = [reads[4 * row + 2] as number, reads[4 * row + 3] as number];
      const [a, b] = rowsIn(times, reads[4 * row] as number, testFrom);
      const [c, d] = rowsIn(times, testFrom, testTo);
      if (testTo > testFrom && c === d) {
        failures.push(emptyRange(row, 'test', testFrom, testTo, source.rangeKind, source.columns[spec.columnOf[row] as number]));
        continue;
      }
      const test = column.subarray(c, d);
      const prediction = predictRow(row, model, column.subarray(a, b), test, times.subarray(a, b), times.subarray(c, d), failures);
      if (prediction !== undefined) out.add(spec.ids[row] as string, times.subarray(c, d), test, prediction);
    }
    stats.fitMs += performance.now() - started;
  });
  failures.sort((x, y) => x[0] - y[0]);
  const metadata = new Map([
    [SCORE_FAILURES_KEY, JSON.stringify(failures.map(([row, code, error]) => ({ id: spec.ids[row], code, error })))],
    [SCORE_STATS_KEY, JSON.stringify({ ...stats, slices: spec.ids.length, scored: spec.ids.length - failures.length, rowsOut: out.rows })],
  ]);
  return out.table(spec.rangeKind, metadata);
}

/** One slice's forecasts, or undefined with its failure recorded (a FamilyError's code, else PREDICT_FAILED). */
export function predictRow(
  row: number,
  model: SliceModel,
  history: Float64Array,
  test: Float64Array,
  historyTimes: Float64Array,
  testTimes: Float64Array,
  failures: RowFailure[],
): Prediction | undefined {
  try {
    return model.family.predict(model.record.params, history, test, { historyTimes, testTimes });
  } catch (error) {
    failures.push([row, isFamilyError(error) ? error.code : 'PREDICT_FAILED', error instanceof Error ? error.message : String(error)]);
    return undefined;
  }
}

/** The time before a test range that holds HISTORY_SLACK times the values `predict` needs, at training spacing. */
function historySpan(record: StoredModel, points: number): number {
  const spacing = (record.trainRange.to - record.trainRange.from) / Math.max(1, record.metrics.trainPoints);
  return HISTORY_SLACK * Math.max(1, points) * spacing;
}

export function newStats(): ModelBatchStats {
  return { queries: 0, scans: 0, rows: 0, readMs: 0, fitMs: 0, groupLoaded: false, pid: process.pid, thread: threadId };
}

/** The client builds specs; this guards against one from another version of it. */
export function checkModelBatch(spec: ModelBatchSpec, task: string): void {
  const count = spec?.ids?.length;
  const covered = spec?.sources?.reduce((sum, source) => sum + source.count, 0);
  if (!(spec?.columnOf instanceof Uint32Array) || !(spec.ranges instanceof Float64Array) || spec.columnOf.length !== count || spec.ranges.length !== 4 * count || covered !== count || typeof spec.models?.store !== 'string') {
    throw new TrainManyError('BAD_BATCH', `${task}: malformed batch spec (ids, columnOf, ranges and sources disagree on the slice count)`);
  }
}
