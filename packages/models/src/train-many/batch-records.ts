// A batch's result, checked against the batch it answers, as the model store's records (one per trained slice,
// params a view into the result's params column) and the failed slices by id.
import { batchRecord } from '../families/evaluate.js';
import type { ModelRecord } from '../store/model-record.js';
import type { BatchResult } from './batch-wire.js';
import { TrainManyError } from './errors.js';
import type { PlannedBatch } from './plan-batches.js';

/** A slice that was not trained, and why. */
export interface SliceFailure {
  id: string;
  /** A FamilyError code (TOO_SHORT, NON_FINITE, SINGULAR, ...) or a read failure (MISSING_COLUMN, EMPTY_RANGE, ...). */
  code: string;
  error: string;
}

export function batchRecords(batch: PlannedBatch, result: BatchResult, familyKey: string): { records: ModelRecord[]; failures: SliceFailure[] } {
  const count = batch.slices.length;
  const k = result.paramCount;
  if (result.count !== count || result.familyKey !== familyKey || result.params.length !== count * k || result.ok.length !== count) {
    throw new TrainManyError('BAD_BATCH', `the result of ${batch.key} does not answer it: ${result.count} rows of ${result.familyKey}, expected ${count} of ${familyKey}`);
  }
  const records: ModelRecord[] = [];
  const columns = { ...result, failures: [] };
  batch.slices.forEach((slice, i) => {
    if (result.ok[i] === 1) records.push({ id: slice.id, ...batchRecord(columns, i), trainRange: slice.trainRange, testRange: slice.testRange, extra: slice.extra });
  });
  const failures = Array.from(result.failedIndex, (row, f) => ({
    id: (batch.slices[row] ?? { id: `row ${row}` }).id,
    code: result.failedCode[f] ?? 'FIT_FAILED',
    error: result.failedMessage[f] ?? '',
  }));
  if (records.length + failures.length !== count) {
    throw new TrainManyError('BAD_BATCH', `the result of ${batch.key} accounts for ${records.length} trained and ${failures.length} failed of its ${count} slices`);
  }
  return { records, failures };
}
