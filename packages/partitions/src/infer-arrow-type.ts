// The Arrow type of a column computed by user code, from the JS values it returned. Numbers are always Float64
// (an integral-looking partition must not become Int32 while its neighbour is Float64: concat would refuse).
import { Bool, Field, FixedSizeList, Float64, Int64, Int8, List, TimestampMillisecond, Uint8, Utf8, type DataType } from 'apache-arrow';
import { PartitionError } from './errors.js';

type Kind = 'number' | 'bigint' | 'boolean' | 'string' | 'date' | 'int8s' | 'uint8s' | 'numbers';

export function inferArrowType(values: unknown[], column: string, existing: DataType | undefined): DataType {
  let kind: Kind | undefined;
  let width = -1;
  let fixedWidth = true;
  for (const value of values) {
    if (value === null) continue;
    const k = kindOf(value, column);
    if (kind !== undefined && k !== kind) {
      throw new PartitionError('BAD_VALUE', `column ${JSON.stringify(column)} mixes ${kind} and ${k} values; return one kind per column (or null)`);
    }
    kind = k;
    if (k === 'int8s' || k === 'uint8s' || k === 'numbers') {
      const length = (value as ArrayLike<number>).length;
      if (width !== -1 && width !== length) fixedWidth = false;
      width = length;
    }
  }
  switch (kind) {
    case undefined:
      return existing ?? new Float64(); // all null: keep the column's type, or pandas' NaN column
    case 'number':
      return new Float64();
    case 'bigint':
      return new Int64();
    case 'boolean':
      return new Bool();
    case 'string':
      return new Utf8();
    case 'date':
      return new TimestampMillisecond();
    case 'int8s':
      return fixedWidth ? new FixedSizeList(width, new Field('item', new Int8(), true)) : new List(new Field('item', new Int8(), true));
    case 'uint8s':
      return fixedWidth ? new FixedSizeList(width, new Field('item', new Uint8(), true)) : new List(new Field('item', new Uint8(), true));
    case 'numbers':
      return new List(new Field('item', new Float64(), true));
  }
}

function kindOf(value: unknown, column: string): Kind {
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'string':
      return typeof value as Kind;
    default:
      if (value instanceof Date) return 'date';
      if (value instanceof Int8Array) return 'int8s';
      if (value instanceof Uint8Array) return 'uint8s';
      if (ArrayBuffer.isView(value) || (Array.isArray(value) && value.every((item) => item === null || typeof item === 'number'))) return 'numbers';
      throw new PartitionError('BAD_VALUE', `column ${JSON.stringify(column)}: cannot store ${describe(value)} in an Arrow column; return numbers, strings, booleans, bigints, Dates, Int8Array/Uint8Array or arrays of numbers`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}
