// What the store keeps per model: one trained model of one slice, as a family produces it plus the slice's
// ranges and passed-through split columns. Records are checked on the way in, so a bad one fails the write
// that brings it rather than a later reader.
import type { ModelMetrics } from '../families/evaluate.js';
import type { TimeRange } from '../split/split.js';
import { ModelStoreError } from './store-error.js';

export interface ModelRecord {
  id: string;
  /** Family name, e.g. 'ar'. */
  family: string;
  /** Family and its parameters, e.g. 'ar(p=8,d=0,k=3)': models with one key share a params layout. */
  familyKey: string;
  /** The packed model in the family's documented layout. */
  params: Float64Array;
  trainRange: TimeRange;
  testRange: TimeRange;
  /** As the families compute them (families/evaluate.ts). */
  metrics: ModelMetrics;
  /** The split's passed-through columns for this slice. */
  extra: Readonly<Record<string, string>>;
}

/** A record as read back: `params` is a read-only view into the loaded file; `trainedAt` is when it was written. */
export interface StoredModel extends ModelRecord {
  /** ms since the epoch at which the record was first written (carried-forward models keep theirs). */
  trainedAt: number;
}

/** Metrics stored as float64 columns (NaN where undefined) and as int32 columns (counts). */
export const FLOAT_METRICS = ['trainRmse', 'trainMae', 'testRmse', 'testMae', 'anomalyRate', 'trainMs'] as const;
export const COUNT_METRICS = ['trainPoints', 'testPoints', 'anomalies'] as const;

/** A metric the families record that has no column here: the assignment below stops compiling, naming it. */
type UnstoredMetric = Exclude<keyof ModelMetrics, (typeof FLOAT_METRICS)[number] | (typeof COUNT_METRICS)[number]>;
export const EVERY_METRIC_STORED: [UnstoredMetric] extends [never] ? true : UnstoredMetric = true;

const MAX_COUNT = 2 ** 31 - 1;

export function checkRecord(record: ModelRecord, where: string): void {
  const bad = (message: string): never => {
    throw new ModelStoreError('INVALID_RECORD', `${where}: model ${JSON.stringify(record?.id)}: ${message}`);
  };
  if (record === null || typeof record !== 'object') bad('not a record object');
  if (typeof record.id !== 'string' || record.id === '') bad('id must be a non-empty string');
  if (typeof record.family !== 'string' || record.family === '') bad('family must be a non-empty string');
  if (typeof record.familyKey !== 'string' || record.familyKey === '') bad('familyKey must be a non-empty string');
  if (!(record.params instanceof Float64Array)) bad('params must be a Float64Array');
  for (const name of ['trainRange', 'testRange'] as const) {
    const range = record[name];
    if (range === null || typeof range !== 'object' || typeof range.from !== 'number' || typeof range.to !== 'number') bad(`${name} must be { from: number, to: number }`);
  }
  if (record.metrics === null || typeof record.metrics !== 'object') bad('metrics missing');
  for (const name of FLOAT_METRICS) if (typeof record.metrics[name] !== 'number') bad(`metrics.${name} must be a number`);
  for (const name of COUNT_METRICS) {
    const count = record.metrics[name];
    if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) bad(`metrics.${name} must be an integer in [0, ${MAX_COUNT}], got ${String(count)}`);
  }
  if (record.extra === null || typeof record.extra !== 'object') bad('extra must be an object of strings');
  for (const [key, value] of Object.entries(record.extra)) {
    if (key === '' || key === '__proto__') bad(`extra has a column named ${JSON.stringify(key)}`);
    if (typeof value !== 'string') bad(`extra.${key} must be a string`);
  }
}
