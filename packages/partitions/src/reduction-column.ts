// The column a reduction reads: found by name (UNKNOWN_COLUMN names the real ones), classified into the family
// that decides which reductions apply and how partials from different partitions may merge, and walked chunk by
// chunk with nulls (and NaN, which pandas also skips) left out.
import { DataType, makeVector, Table, type Data, type Schema, type Vector } from 'apache-arrow';
import { describeValue } from '@loom/protocol';
import { PartitionError } from './errors.js';

/**
 * `int` (every integer width, read exactly), `float` (NaN is missing), `bool`, `string` (also dictionary-encoded),
 * `temporal` (timestamps, dates, times, durations: compared by their stored integers), `null` (Arrow's Null type:
 * no values at all, so it merges with any family).
 */
export type ColumnFamily = 'int' | 'float' | 'bool' | 'string' | 'temporal' | 'null';

/** One value as a reduction keeps it: what Arrow JS reads for the column, or its stored integer for temporal types. */
export type ColumnKey = number | bigint | string | boolean;

export interface ReductionColumn {
  readonly name: string;
  /** The values' type (a dictionary column's value type). */
  readonly type: DataType;
  readonly family: ColumnFamily;
  readonly vector: Vector;
}

/** The column `name` of `table`, or UNKNOWN_COLUMN naming the columns there are. `what` names the reduction. */
export function reductionColumn(table: unknown, name: string, what: string): ReductionColumn {
  if (!(table instanceof Table)) {
    throw new PartitionError('BAD_VALUE', `${what}('${name}') needs partitions that are Arrow Tables, got ${describeValue(table)}`);
  }
  const family = columnFamily(table.schema, name, what);
  const vector = table.getChild(name) as Vector;
  return { name, type: valueType(vector.type), family, vector };
}

/** The family of column `name` in `schema`; UNKNOWN_COLUMN or UNSUPPORTED_TYPE otherwise (used before planning too). */
export function columnFamily(schema: Schema, name: string, what: string): ColumnFamily {
  const field = schema.fields.find((candidate) => candidate.name === name);
  if (field === undefined) {
    const names = schema.fields.map((candidate) => JSON.stringify(candidate.name)).join(', ');
    throw new PartitionError('UNKNOWN_COLUMN', `${what}: unknown column ${JSON.stringify(name)}; the table has: ${names || 'no columns'}`);
  }
  const type = valueType(field.type);
  const family = familyOf(type);
  if (family === undefined) {
    throw new PartitionError('UNSUPPORTED_TYPE', `${what}: column ${JSON.stringify(name)} has type ${String(field.type)}, which ${what} does not read`);
  }
  return family;
}

/** UNSUPPORTED_TYPE unless `family` is one of `allowed` (a Null column is always allowed: it has no values). */
export function requireFamily(column: { name: string; type: DataType; family: ColumnFamily }, allowed: readonly ColumnFamily[], what: string): void {
  if (column.family === 'null' || allowed.includes(column.family)) return;
  const kinds = allowed.length === 1 ? allowed[0] : `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`;
  throw new PartitionError(
    'UNSUPPORTED_TYPE',
    `${what} needs a column of type ${kinds}; column ${JSON.stringify(column.name)} is ${String(column.type)}`,
  );
}

/** SCHEMA_MISMATCH for partials of one column that cannot merge (an int column in one partition, text in another). */
export function kindMismatchError(column: string, a: string, b: string): PartitionError {
  return new PartitionError('SCHEMA_MISMATCH', `column ${JSON.stringify(column)} is ${a} in some partitions and ${b} in others; cast it to one type first`);
}

function valueType(type: DataType): DataType {
  return DataType.isDictionary(type) ? type.dictionary : type;
}

function familyOf(type: DataType): ColumnFamily | undefined {
  if (DataType.isInt(type)) return 'int';
  if (DataType.isFloat(type)) return 'float';
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'string';
  if (DataType.isTimestamp(type) || DataType.isDate(type) || DataType.isTime(type) || DataType.isDuration(type)) return 'temporal';
  if (DataType.isNull(type)) return 'null';
  return undefined;
}

/** The null bitmap of a chunk and the bit its slot 0 sits at, or undefined when no slot is null. */
export function nullBits(data: Data): { bitmap: Uint8Array; offset: number } | undefined {
  if (data.nullCount === 0 || data.nullBitmap === undefined || data.nullBitmap.length === 0) return undefined;
  return { bitmap: data.nullBitmap, offset: data.offset };
}

export function isSet(bitmap: Uint8Array, bit: number): boolean {
  return (bitmap[bit >> 3]! & (1 << (bit & 7))) !== 0;
}

/**
 * True when a chunk's values are a typed array of the stored numbers, one per slot (ints, Float32/64, temporal
 * types). Float16 (stored as half-float bits), booleans (bits) and strings are read through the Vector.
 */
export function hasPlainValues(data: Data): boolean {
  return isPlainType(data.type);
}

export function isPlainType(type: DataType): boolean {
  if (DataType.isFloat(type)) return type.precision !== 0;
  return DataType.isInt(type) || DataType.isTimestamp(type) || DataType.isDate(type) || DataType.isTime(type) || DataType.isDuration(type);
}

/**
 * Calls `visit(value, slot)` for each slot of a chunk that holds a value, and `onMissing()` for each null or NaN
 * slot. Values are the stored numbers for plain chunks (bigint for 64-bit types), else what the Vector reads.
 */
export function forEachValue(data: Data, visit: (value: ColumnKey, slot: number) => void, onMissing?: () => void): void {
  const bits = nullBits(data);
  const plain = hasPlainValues(data);
  const values = plain ? (data.values as ArrayLike<number | bigint>) : undefined;
  const vector = plain ? undefined : makeVector(data);
  for (let slot = 0; slot < data.length; slot++) {
    const value = bits && !isSet(bits.bitmap, bits.offset + slot) ? null : ((values ? values[slot] : vector!.get(slot)) as ColumnKey | null);
    if (value === null || value !== value) onMissing?.();
    else visit(value, slot);
  }
}

/** The keys of a dictionary chunk's values, by index (null for a null or NaN entry). */
export function dictionaryKeys(dictionary: Vector): Array<ColumnKey | null> {
  const keys: Array<ColumnKey | null> = [];
  for (const data of dictionary.data) {
    forEachValue(data, (value) => keys.push(value), () => keys.push(null));
  }
  return keys;
}

/** Which dictionary entries a chunk's valid slots use, as a 0/1 mark per entry. */
export function usedEntries(data: Data, entries: number): Uint8Array {
  const used = new Uint8Array(entries);
  const bits = nullBits(data);
  const indices = data.values as ArrayLike<number | bigint>;
  for (let slot = 0; slot < data.length; slot++) {
    if (bits && !isSet(bits.bitmap, bits.offset + slot)) continue;
    used[Number(indices[slot])] = 1;
  }
  return used;
}
