// A batch's result, checked against the batch it answers, as the model store's columns (the result's own typed
// arrays; its trained rows listed) and the failed slices by id.
import type { ModelColumns } from '../store/model-columns.js';
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

export function batchModels(batch: PlannedBatch, result: BatchResult, familyKey: string): { models: ModelColumns; failures: SliceFailure[] } {
  const { slices } = batch;
  const count = slices.length;
  const k = result.paramCount;
  if (result.count !== count || result.familyKey !== familyKey || result.params.length !== count * k || result.ok.length !== count) {
    throw new TrainManyError('BAD_BATCH', `the result of ${batch.key} does not answer it: ${result.count} rows of ${result.familyKey}, expected ${count} of ${familyKey}`);
  }
  let trained = 0;
  for (let i = 0; i < count; i++) if (result.ok[i] === 1) trained++;
  const rows = new Uint32Array(trained);
  const ranges = new Float64Array(4 * count);
  for (let i = 0, r = 0; i < count; i++) {
    if (result.ok[i] === 1) rows[r++] = i;
    const slice = slices[i] as PlannedBatch['slices'][number];
    ranges[4 * i] = slice.trainRange.from;
    ranges[4 * i + 1] = slice.trainRange.to;
    ranges[4 * i + 2] = slice.testRange.from;
    ranges[4 * i + 3] = slice.testRange.to;
  }
  const failures = Array.from(result.failedIndex, (row, f) => ({
    id: (slices[row] ?? { id: `row ${row}` }).id,
    code: result.failedCode[f] ?? 'FIT_FAILED',
    error: result.failedMessage[f] ?? '',
  }));
  if (trained + failures.length !== count) {
    throw new TrainManyError('BAD_BATCH', `the result of ${batch.key} accounts for ${trained} trained and ${failures.length} failed of its ${count} slices`);
  }
  const models: ModelColumns = {
    rows,
    ids: slices.map((slice) => slice.id),
    family: result.family,
    familyKey: result.familyKey,
    paramCount: k,
    params: result.params,
    ranges,
    floatMetrics: {
      trainRmse: result.trainRmse, trainMae: result.trainMae, testRmse: result.testRmse, testMae: result.testMae,
      anomalyRate: result.anomalyRate, trainMs: result.trainMs,
    },
    countMetrics: { trainPoints: result.trainPoints, testPoints: result.testPoints, anomalies: result.anomalies },
    extra: slices.map((slice) => slice.extra),
  };
  return { models, failures };
}
