// The columns of a table as the writers see them: each Arrow type sorted into the few kinds a file or database
// stores, and a reader of row i's value that walks the column's chunks. Dictionary columns are read as their
// values. Types no writer stores (lists, structs, decimals, ...) are refused here, naming the column.
import { DataType, TimeUnit, Type, type Data, type Field, type Int, type Table, type Vector } from 'apache-arrow';
import { PartitionError } from './errors.js';

export type WriteKind = 'bool' | 'int' | 'int64' | 'float' | 'utf8' | 'binary' | 'date' | 'timestamp';

export interface WriteColumn {
  name: string;
  kind: WriteKind;
  /** The stored type: the dictionary's value type for dictionary columns. */
  type: DataType;
  nullable: boolean;
  /** Integer width in bits and signedness (kind 'int' and 'int64'). */
  bitWidth: number;
  signed: boolean;
  /** Timestamps: the unit of `at`'s bigint, and the zone (undefined when the column has none). */
  unit: TimeUnit;
  timezone: string | undefined;
  /**
   * Row i's value or null: a number (int, float; date as days since the epoch), a bigint (int64; timestamp in
   * `unit` since the epoch), a boolean, a string or bytes.
   */
  at(i: number): number | bigint | boolean | string | Uint8Array | null;
}

export function writeColumns(table: Table, what: string): WriteColumn[] {
  return table.schema.fields.map((field, c) => writeColumn(field, table.getChildAt(c) as Vector, what));
}

function writeColumn(field: Field, vector: Vector, what: string): WriteColumn {
  const type = DataType.isDictionary(field.type) ? field.type.dictionary : field.type;
  const kind = kindOf(type);
  if (kind === undefined) {
    throw new PartitionError('UNSUPPORTED_TYPE', `${what}: column ${JSON.stringify(field.name)} has type ${String(field.type)}, which is not written; supported are booleans, integers, floats, text, binary, dates and timestamps (select or cast the column first)`);
  }
  const int = DataType.isInt(type) ? type : undefined;
  const timestamp = DataType.isTimestamp(type) ? type : undefined;
  return {
    name: field.name,
    kind,
    type,
    nullable: field.nullable,
    bitWidth: int?.bitWidth ?? 0,
    signed: int?.isSigned ?? true,
    unit: timestamp?.unit ?? TimeUnit.MILLISECOND,
    timezone: timestamp?.timezone ?? undefined,
    at: reader(vector, kind),
  };
}

function kindOf(type: DataType): WriteKind | undefined {
  switch (type.typeId) {
    case Type.Bool:
      return 'bool';
    case Type.Int:
      return (type as Int).bitWidth === 64 ? 'int64' : 'int';
    case Type.Float:
      return 'float';
    case Type.Utf8:
    case Type.LargeUtf8:
      return 'utf8';
    case Type.Binary:
    case Type.LargeBinary:
      return 'binary';
    case Type.Date:
      return 'date';
    case Type.Timestamp:
      return 'timestamp';
    default:
      return undefined;
  }
}

const DAY_MS = 86_400_000;

/**
 * Row i's value. Timestamps come from the raw buffer (`get` converts them to float milliseconds, which loses
 * microseconds); dates as whole days. Reading rows in order touches each chunk once.
 */
function reader(vector: Vector, kind: WriteKind): WriteColumn['at'] {
  const chunks: readonly Data[] = vector.data;
  const starts: number[] = [];
  let total = 0;
  for (const chunk of chunks) {
    starts.push(total);
    total += chunk.length;
  }
  let current = 0;
  return (i) => {
    if (i < (starts[current] ?? 0) || i >= (starts[current] ?? 0) + (chunks[current]?.length ?? 0)) {
      current = starts.findIndex((start, c) => i >= start && i < start + (chunks[c] as Data).length);
      if (current < 0) throw new RangeError(`row ${i} is outside the column's ${total} rows`);
    }
    const chunk = chunks[current] as Data;
    const local = i - (starts[current] as number);
    if (!chunk.getValid(local)) return null;
    if (kind === 'timestamp') return BigInt((chunk.values as BigInt64Array)[local] as bigint);
    const value = vector.get(i) as unknown;
    if (value === null || value === undefined) return null;
    if (kind === 'date') return Math.floor((value instanceof Date ? value.getTime() : (value as number)) / DAY_MS);
    if (kind === 'int64') return BigInt(value as bigint);
    return value as number | boolean | string | Uint8Array;
  };
}

/** Nanoseconds per unit: converting a raw timestamp to another unit. */
export const NANOS_PER_UNIT: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000_000n,
  [TimeUnit.MILLISECOND]: 1_000_000n,
  [TimeUnit.MICROSECOND]: 1_000n,
  [TimeUnit.NANOSECOND]: 1n,
};
