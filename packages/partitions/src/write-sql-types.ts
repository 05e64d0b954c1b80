// Arrow columns in PostgreSQL: the type a created table gives each column, the existing column types a
// column may be appended to without losing values, and each value's text in COPY's text format.
import { TimeUnit } from 'apache-arrow';
import { PartitionError } from './errors.js';
import { NANOS_PER_UNIT, type WriteColumn } from './write-columns.js';

/** The column's PostgreSQL type (format_type's spelling), as CREATE TABLE gets it. */
export function postgresType(column: WriteColumn): string {
  switch (column.kind) {
    case 'bool':
      return 'boolean';
    case 'int':
      if (column.bitWidth <= 8 || (column.bitWidth === 16 && column.signed)) return 'smallint';
      return column.bitWidth === 16 || column.signed ? 'integer' : 'bigint';
    case 'int64':
      return column.signed ? 'bigint' : 'numeric(20,0)';
    case 'float':
      return String(column.type) === 'Float64' ? 'double precision' : 'real';
    case 'utf8':
      return 'text';
    case 'binary':
      return 'bytea';
    case 'date':
      return 'date';
    case 'timestamp':
      return column.timezone === undefined ? 'timestamp without time zone' : 'timestamp with time zone';
  }
}

const NUMERIC_WIDER: Record<string, readonly string[]> = {
  smallint: ['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision'],
  integer: ['integer', 'bigint', 'numeric', 'double precision'],
  bigint: ['bigint', 'numeric'],
  'numeric(20,0)': ['numeric'],
  real: ['real', 'double precision', 'numeric'],
  'double precision': ['double precision', 'numeric'],
};
const TEXT_TYPES = ['text', 'character varying', 'character', 'json', 'jsonb', 'uuid'];
const TIMESTAMP_TYPES = ['timestamp without time zone', 'timestamp with time zone'];

/**
 * Whether values of `written` (a postgresType) go into an existing column of type `existing` (format_type,
 * with modifiers such as varchar's length dropped) exactly: the same type or a wider one.
 */
export function fitsColumn(written: string, existing: string): boolean {
  const base = existing.replace(/\(.*\)/, '').trim();
  if (written === existing) return true;
  const wider = NUMERIC_WIDER[written];
  if (wider) return wider.includes(base);
  if (written === 'text') return TEXT_TYPES.includes(base);
  if (written === 'date') return base === 'date' || TIMESTAMP_TYPES.includes(base);
  if (TIMESTAMP_TYPES.includes(written)) return TIMESTAMP_TYPES.includes(base);
  return written === base;
}

/** The COPY text of one column's non-null values (null is `\N`, written by the caller). */
export function copyFormatter(column: WriteColumn): (value: unknown) => string {
  switch (column.kind) {
    case 'bool':
      return (value) => (value ? 't' : 'f');
    case 'utf8':
      return (value) => copyText(value as string, column.name);
    case 'binary':
      return (value) => `\\\\x${Buffer.from(value as Uint8Array).toString('hex')}`;
    case 'date':
      return (value) => new Date((value as number) * 86_400_000).toISOString().slice(0, 10);
    case 'timestamp': {
      const zone = column.timezone === undefined ? '' : '+00';
      return (value) => timestampText(value as bigint, column) + zone;
    }
    default:
      return (value) => String(value); // numbers, bigints; NaN and +-Infinity are PostgreSQL's spellings too
  }
}

/** COPY's text escapes: backslash, and the tab, newline and carriage return that separate fields and rows. */
function copyText(text: string, name: string): string {
  if (text.includes('\0')) throw new PartitionError('BAD_VALUE', `toSql: column ${JSON.stringify(name)} holds a NUL character, which PostgreSQL text cannot store`);
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] as string) : text;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** 'YYYY-MM-DD HH:MM:SS.ffffff' (PostgreSQL keeps microseconds; a nanosecond remainder is refused, not cut). */
function timestampText(value: bigint, column: WriteColumn): string {
  const nanos = value * NANOS_PER_UNIT[column.unit];
  const micros = nanos / 1000n - (nanos % 1000n < 0n ? 1n : 0n);
  if (micros * 1000n !== nanos) {
    throw new PartitionError('BAD_VALUE', `toSql: column ${JSON.stringify(column.name)} holds ${value} ns, finer than the microseconds PostgreSQL keeps; round it first`);
  }
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const iso = new Date(Number(millis)).toISOString();
  const fraction = column.unit === TimeUnit.SECOND ? '' : `.${iso.slice(20, 23)}${String(micros - millis * 1000n).padStart(3, '0')}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction}`;
}
