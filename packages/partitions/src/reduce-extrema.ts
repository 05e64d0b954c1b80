// min and max as partials that merge: the extreme value of a partition, compared exactly (int64 as bigint,
// timestamps and dates by their stored integers, strings by code point), nulls and NaN skipped.
import { DataType, makeVector, Vector, type Data } from 'apache-arrow';
import { dictionaryKeys, forEachValue, kindMismatchError, usedEntries, type ColumnKey, type ReductionColumn } from './reduction-column.js';
import { compareKeys } from './value-order.js';

export type Extreme = 'min' | 'max';

export interface ExtremePartial {
  /** The family, or for temporal columns the type itself (units and zones must agree): partials merge by it. */
  kind: string;
  /** The value compared: the stored integer for temporal types, else the value. null when there is none. */
  order: ColumnKey | null;
  /** The value as Arrow JS reads it (epoch milliseconds for timestamps and dates). */
  value: ColumnKey | null;
}

export function extremePartial(column: ReductionColumn, extreme: Extreme): ExtremePartial {
  const kind = column.family === 'temporal' ? String(column.type) : column.family;
  const sign = extreme === 'min' ? 1 : -1;
  let order: ColumnKey | null = null;
  // Where the winner sits, so that its display value is read only once, at the end.
  let holder: Vector | Data | undefined;
  let index = 0;
  const consider = (candidate: ColumnKey, where: Vector | Data, at: number) => {
    if (order === null || sign * compareKeys(candidate, order) < 0) {
      order = candidate;
      holder = where;
      index = at;
    }
  };
  for (const data of column.vector.data) {
    if (DataType.isDictionary(data.type) && data.dictionary) {
      // Compare each used dictionary entry once instead of each row.
      const dictionary = data.dictionary;
      const keys = dictionaryKeys(dictionary);
      const used = usedEntries(data, keys.length);
      keys.forEach((key, entry) => {
        if (key !== null && used[entry] === 1) consider(key, dictionary, entry);
      });
    } else {
      forEachValue(data, (value, slot) => consider(value, data, slot));
    }
  }
  return { kind, order, value: order === null ? null : displayValue(holder!, index, order, column) };
}

export function mergeExtremes(a: ExtremePartial, b: ExtremePartial, extreme: Extreme, column: string): ExtremePartial {
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if (a.kind !== b.kind) throw kindMismatchError(column, a.kind, b.kind);
  if (a.order === null) return b;
  if (b.order === null) return a;
  const sign = extreme === 'min' ? 1 : -1;
  // Ties keep the earlier partition's value, as a left-to-right scan would.
  return sign * compareKeys(b.order, a.order) < 0 ? b : a;
}

function displayValue(holder: Vector | Data, index: number, order: ColumnKey, column: ReductionColumn): ColumnKey {
  if (column.family !== 'temporal') return order;
  const vector = holder instanceof Vector ? holder : makeVector(holder);
  return vector.get(index) as ColumnKey;
}
