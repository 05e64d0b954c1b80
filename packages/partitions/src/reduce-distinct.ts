// nunique and valueCounts as partials that merge exactly: each partition's distinct values (with their counts,
// in order of first appearance), merged in partition order so that the order of first appearance is global.
// Null and NaN are one missing value, counted only when dropna is false (pandas' default is true).
import { DataType, Field, Int64, makeData, makeVector, Null, Schema, Table, vectorFromArray, type Vector } from 'apache-arrow';
import { dictionaryKeys, forEachValue, isPlainType, isSet, kindMismatchError, nullBits, type ColumnKey, type ReductionColumn } from './reduction-column.js';

export interface UniquePartial {
  /** What the values are (a type name; 'string' for any text, 'null' for a Null column): partials merge by it. */
  kind: string;
  values: Set<ColumnKey>;
  /** Whether any slot was null or NaN. */
  missing: boolean;
}

/** Distinct values in order of first appearance; the key null stands for the missing value. */
type Counts = Map<ColumnKey | null, number>;

export const VALUE_COUNTS_COLUMNS = ['value', 'count'] as const;

export function uniquePartial(column: ReductionColumn): UniquePartial {
  const counts = countValues(column);
  const missing = counts.delete(null);
  return { kind: distinctKind(column.type), values: new Set(counts.keys() as Iterable<ColumnKey>), missing };
}

/** Partials merged into a new one: inputs are left as they are (a worker may hand one value to several tasks). */
export function mergeUniques(partials: readonly UniquePartial[], column: string): UniquePartial {
  let kind = 'null';
  const values = new Set<ColumnKey>();
  let missing = false;
  for (const partial of partials) {
    kind = mergedKind(kind, partial.kind, column);
    for (const value of partial.values) values.add(value);
    missing ||= partial.missing;
  }
  return { kind, values, missing };
}

export function finishUnique(partial: UniquePartial, dropna: boolean): number {
  return partial.values.size + (!dropna && partial.missing ? 1 : 0);
}

/** A partition's value counts as a table { value, count: Int64 }, in order of first appearance. */
export function valueCountsPartial(column: ReductionColumn, dropna: boolean): Table {
  const counts = countValues(column);
  if (dropna) counts.delete(null);
  return countsTable(column.type, counts);
}

/** Value-count tables merged in the order given (earlier tables' values first among equals). */
export function mergeValueCounts(tables: readonly Table[], column: string): Table {
  let type: DataType = new Null();
  let kind = 'null';
  const counts: Counts = new Map();
  for (const table of tables) {
    const valueType = table.schema.fields[0]!.type;
    kind = mergedKind(kind, distinctKind(valueType), column);
    if (!DataType.isNull(valueType)) type = valueType;
    forEachCount(table, (key, count) => counts.set(key, (counts.get(key) ?? 0) + count));
  }
  return countsTable(type, counts);
}

/** The merged counts, most frequent first; ties in order of first appearance (as pandas orders small inputs). */
export function finishValueCounts(table: Table): Table {
  const entries: Array<[ColumnKey | null, number]> = [];
  forEachCount(table, (key, count) => entries.push([key, count]));
  entries.sort((a, b) => b[1] - a[1]); // stable
  return countsTable(table.schema.fields[0]!.type, new Map(entries));
}

function forEachCount(table: Table, visit: (key: ColumnKey | null, count: number) => void): void {
  for (const batch of table.batches) {
    const counted = batch.getChildAt(1)!.data[0]!.values as BigInt64Array;
    // Every slot gets exactly one callback, so a running position pairs each value with its count.
    let slot = 0;
    forEachValue(batch.getChildAt(0)!.data[0]!, (key) => visit(key, Number(counted[slot++])), () => visit(null, Number(counted[slot++])));
  }
}

/** The value counts of no partitions at all. */
export function emptyValueCounts(): Table {
  return countsTable(new Null(), new Map());
}

function countValues(column: ReductionColumn): Counts {
  const counts: Counts = new Map();
  const add = (key: ColumnKey | null, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);
  for (const data of column.vector.data) {
    if (DataType.isDictionary(data.type) && data.dictionary) {
      // Count entry indices, then name them: one dictionary lookup per distinct entry, not per row.
      const keys = dictionaryKeys(data.dictionary);
      const perEntry = new Float64Array(keys.length);
      const firstSeen: number[] = [];
      let missing = 0;
      const bits = nullBits(data);
      const indices = data.values as ArrayLike<number | bigint>;
      for (let slot = 0; slot < data.length; slot++) {
        if (bits && !isSet(bits.bitmap, bits.offset + slot)) {
          if (missing++ === 0) firstSeen.push(-1);
          continue;
        }
        const entry = Number(indices[slot]);
        const seen = perEntry[entry]!;
        perEntry[entry] = seen + 1;
        if (seen === 0) firstSeen.push(entry);
      }
      for (const entry of firstSeen) add(entry === -1 ? null : (keys[entry] ?? null), entry === -1 ? missing : perEntry[entry]!);
    } else {
      forEachValue(data, (key) => add(key, 1), () => add(null, 1));
    }
  }
  return counts;
}

function countsTable(type: DataType, counts: Counts): Table {
  // No rows: a table of just the schema (apache-arrow 21 builds a malformed batch from zero-length vectors).
  if (counts.size === 0) return new Table(new Schema([new Field(VALUE_COUNTS_COLUMNS[0], type, true), new Field(VALUE_COUNTS_COLUMNS[1], new Int64(), false)]));
  const keys = [...counts.keys()];
  const counted = BigInt64Array.from(counts.values(), (n) => BigInt(n));
  return new Table({
    [VALUE_COUNTS_COLUMNS[0]]: keysVector(type, keys),
    [VALUE_COUNTS_COLUMNS[1]]: makeVector(makeData({ type: new Int64(), length: counted.length, data: counted })),
  });
}

/** Keys as a vector of `type`: stored integers are written back as they are (exact for timestamps and int64). */
function keysVector(type: DataType, keys: Array<ColumnKey | null>): Vector {
  if (!isPlainType(type)) return vectorFromArray(keys, type);
  const values = new (type.ArrayType as new (length: number) => { [slot: number]: ColumnKey })(keys.length);
  const valid = new Uint8Array((keys.length + 7) >> 3);
  let nulls = 0;
  keys.forEach((key, slot) => {
    if (key === null) {
      nulls++;
    } else {
      values[slot] = key;
      valid[slot >> 3]! |= 1 << (slot & 7);
    }
  });
  return makeVector(makeData({ type, length: keys.length, nullCount: nulls, nullBitmap: nulls > 0 ? valid : undefined, data: values } as never)); // makeData is typed per concrete DataType; `type` is any plain one
}

function distinctKind(type: DataType): string {
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'string';
  return DataType.isNull(type) ? 'null' : String(type);
}

function mergedKind(a: string, b: string, column: string): string {
  if (a === 'null') return b;
  if (b === 'null' || a === b) return a;
  throw kindMismatchError(column, a, b);
}
