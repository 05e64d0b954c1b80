// PostgreSQL result columns to Arrow: the type each OID becomes and how its text value converts. Values are
// taken as text (pg's own parsers are switched off) so timestamps never pass through the local time zone.
import { Bool, DateDay, Float64, Int32, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';
import { PartitionError } from './errors.js';

export interface SqlColumn {
  type: DataType;
  convert: (text: string) => unknown;
}

const OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  float4: 700,
  float8: 701,
  numeric: 1700,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
} as const;

export function sqlColumn(oid: number, name: string): SqlColumn {
  switch (oid) {
    case OID.bool:
      return { type: new Bool(), convert: (text) => text === 't' };
    case OID.int2:
    case OID.int4:
      return { type: new Int32(), convert: Number };
    case OID.int8:
      // Float64, not Int64: JS code over rows then sees numbers, not BigInts. Exact up to 2^53; beyond, fail loudly.
      return { type: new Float64(), convert: (text) => int8(text, name) };
    case OID.float4:
    case OID.float8:
    case OID.numeric:
      return { type: new Float64(), convert: Number };
    case OID.date:
      return { type: new DateDay(), convert: (text) => new Date(utcMillis(`${text}T00:00:00`, name)) };
    case OID.timestamp:
    case OID.timestamptz:
      // The session runs in UTC, so timestamptz text ends in +00 and timestamp text is already UTC wall time.
      return { type: new TimestampMillisecond(), convert: (text) => utcMillis(text.replace(' ', 'T').replace(/\+00$/, ''), name) };
    default:
      return { type: new Utf8(), convert: (text) => text }; // text, varchar, json, uuid, ...: their text form
  }
}

function int8(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new PartitionError('SQL_UNSUPPORTED', `column ${JSON.stringify(name)}: int8 value ${text} is beyond 2^53 and cannot be exact as a float64; cast it to text or numeric in the query`);
  }
  return value;
}

function utcMillis(isoWithoutZone: string, name: string): number {
  const ms = Date.parse(`${isoWithoutZone}Z`);
  if (Number.isNaN(ms)) throw new PartitionError('SQL_UNSUPPORTED', `column ${JSON.stringify(name)}: cannot read ${JSON.stringify(isoWithoutZone)} as a date/time (infinity and BC dates are not supported)`);
  return ms;
}
