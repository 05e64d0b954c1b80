// Models as columns: what a training batch already is (one typed array per metric, params packed row-major) and
// what a store file is. Writing a batch this way checks each column in one loop and encodes it in one pass
// (column-encode.ts), with no object per model on the way (a record per model cost the client ~25 us a model
// at 250,000 models, profiled).
import { COUNT_METRICS, FLOAT_METRICS } from './model-record.js';
import type { RecordLayout } from './record-schema.js';
import { ModelStoreError } from './store-error.js';

export type FloatMetric = (typeof FLOAT_METRICS)[number];
export type CountMetric = (typeof COUNT_METRICS)[number];

/**
 * Models of one family as parallel columns over `ids.length` rows, of which `rows` (ascending) are the models to
 * write: a training batch's failed rows stay in the columns and are left out by not being listed.
 */
export interface ModelColumns {
  readonly rows: Uint32Array;
  readonly ids: readonly string[];
  readonly family: string;
  readonly familyKey: string;
  /** Parameters per model; `params` is ids.length x paramCount, row-major. */
  readonly paramCount: number;
  readonly params: Float64Array;
  /** Per row: train_from, train_to, test_from, test_to. */
  readonly ranges: Float64Array;
  readonly floatMetrics: Readonly<Record<FloatMetric, Float64Array>>;
  readonly countMetrics: Readonly<Record<CountMetric, Int32Array>>;
  /** Per row, the split's passed-through columns. */
  readonly extra: readonly Readonly<Record<string, string>>[];
}

const MAX_COUNT = 2 ** 31 - 1;

/** Checks `columns` as checkRecord checks a record, column by column; returns the layout of its file. */
export function checkColumns(columns: ModelColumns, where: string): RecordLayout {
  const bad = (message: string): never => {
    throw new ModelStoreError('INVALID_RECORD', `${where}: ${message}`);
  };
  const { rows, ids, paramCount } = columns;
  const n = ids.length;
  if (!(rows instanceof Uint32Array)) bad('rows must be a Uint32Array');
  if (typeof columns.family !== 'string' || columns.family === '') bad('family must be a non-empty string');
  if (typeof columns.familyKey !== 'string' || columns.familyKey === '') bad('familyKey must be a non-empty string');
  if (!Number.isSafeInteger(paramCount) || paramCount < 0) bad(`paramCount must be a non-negative integer, got ${String(paramCount)}`);
  if (!(columns.params instanceof Float64Array) || columns.params.length !== n * paramCount) bad(`params must be a Float64Array of ${n} x ${paramCount}`);
  if (!(columns.ranges instanceof Float64Array) || columns.ranges.length !== 4 * n) bad(`ranges must be a Float64Array of ${n} x 4`);
  if (columns.extra.length !== n) bad(`extra has ${columns.extra.length} rows, ids ${n}`);
  for (const name of FLOAT_METRICS) {
    const column = columns.floatMetrics[name];
    if (!(column instanceof Float64Array) || column.length !== n) bad(`metrics.${name} must be a Float64Array of ${n}`);
  }
  for (const name of COUNT_METRICS) {
    const column = columns.countMetrics[name];
    if (!(column instanceof Int32Array) || column.length !== n) bad(`metrics.${name} must be an Int32Array of ${n}`);
  }
  const seen = new Set<string>();
  const extraKeys = new Set<string>();
  let previous = -1;
  for (const row of rows) {
    if (row <= previous || row >= n) bad(`rows must be ascending and below ${n}, got ${row} after ${previous}`);
    previous = row;
    const id = ids[row];
    if (typeof id !== 'string' || id === '') bad(`row ${row}: id must be a non-empty string`);
    if (seen.has(id as string)) throw new ModelStoreError('DUPLICATE_MODEL', `${where}: model ${JSON.stringify(id)} appears twice`);
    seen.add(id as string);
    for (const name of COUNT_METRICS) {
      const count = columns.countMetrics[name][row] as number;
      // Int32Array cells are integers below 2^31 already; only a negative count is wrong.
      if (count < 0) bad(`model ${JSON.stringify(id)}: metrics.${name} must be an integer in [0, ${MAX_COUNT}], got ${count}`);
    }
    const extra = columns.extra[row];
    if (extra === null || typeof extra !== 'object') bad(`model ${JSON.stringify(id)}: extra must be an object of strings`);
    for (const key in extra) {
      if (!Object.hasOwn(extra, key)) continue;
      if (key === '' || key === '__proto__') bad(`model ${JSON.stringify(id)}: extra has a column named ${JSON.stringify(key)}`);
      if (typeof extra[key] !== 'string') bad(`model ${JSON.stringify(id)}: extra.${key} must be a string`);
      extraKeys.add(key);
    }
  }
  return { paramWidth: paramCount, extraKeys: [...extraKeys].sort() };
}
