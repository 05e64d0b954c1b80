// Snowflake result columns to Arrow: the Arrow type each row-type entry becomes, and an accumulator per column
// that appends the driver's values as rows stream in and finishes into one Arrow Data. Fixed-width columns grow
// typed arrays directly (Arrow's own timestamp builders take milliseconds, which would drop nanoseconds).
import {
  Binary, Bool, DateDay, Decimal, Field, Float64, Int64, makeBuilder, makeData, TimeNanosecond, Timestamp, TimeUnit, Utf8,
  type Data, type DataType,
} from 'apache-arrow';
import { PartitionError } from './errors.js';

/** One entry of a Snowflake result's row type, as the driver's statement columns describe it. */
export interface SnowflakeColumnType {
  name: string;
  /** The driver's type name: fixed, real, text, boolean, date, time, timestamp_ntz/ltz/tz, variant, object, array, binary. */
  type: string;
  precision: number | null;
  scale: number | null;
}

export interface SnowflakeTypeOptions {
  /** NUMBER(p, s > 0) as Decimal128(p, s) (default) or as Float64. */
  decimals?: 'decimal128' | 'float64';
  /** NUMBER(p, 0) with p > 18 as Int64 (default; a value outside the 64-bit range fails) or Decimal128(p, 0). */
  wideIntegers?: 'int64' | 'decimal128';
  /** Column names lower-cased (Snowflake returns unquoted identifiers upper-case). */
  lowercaseNames?: boolean;
}

type Kind = 'int64' | 'decimal' | 'float64' | 'utf8' | 'json' | 'bool' | 'date' | 'time' | 'timestamp' | 'binary';

export interface ColumnPlan {
  field: Field;
  kind: Kind;
  /** Digits after the point (decimal) or of the second's fraction kept by the timestamp unit. */
  scale: number;
}

const TIMESTAMP_UNITS: readonly { digits: number; unit: TimeUnit }[] = [
  { digits: 0, unit: TimeUnit.SECOND }, { digits: 3, unit: TimeUnit.MILLISECOND },
  { digits: 6, unit: TimeUnit.MICROSECOND }, { digits: 9, unit: TimeUnit.NANOSECOND },
];

export function planColumn(column: SnowflakeColumnType, options: SnowflakeTypeOptions = {}): ColumnPlan {
  const name = options.lowercaseNames === true ? column.name.toLowerCase() : column.name;
  const plan = (kind: Kind, type: DataType, scale = 0): ColumnPlan => ({ field: new Field(name, type, true), kind, scale });
  const scale = column.scale ?? 0;
  const precision = column.precision ?? 38;
  switch (column.type) {
    case 'fixed':
      if (scale > 0) {
        return options.decimals === 'float64' ? plan('float64', new Float64()) : plan('decimal', new Decimal(scale, precision, 128), scale);
      }
      return precision > 18 && options.wideIntegers === 'decimal128' ? plan('decimal', new Decimal(0, precision, 128)) : plan('int64', new Int64());
    case 'real':
      return plan('float64', new Float64());
    case 'text':
      return plan('utf8', new Utf8());
    case 'variant':
    case 'object':
    case 'array':
      return plan('json', new Utf8());
    case 'boolean':
      return plan('bool', new Bool());
    case 'date':
      return plan('date', new DateDay());
    case 'time':
      return plan('time', new TimeNanosecond(), 9);
    case 'timestamp_ntz':
    case 'timestamp_ltz':
    case 'timestamp_tz': {
      // The smallest Arrow unit that holds the column's fractional digits; NTZ is wall-clock time (no zone),
      // LTZ and TZ are instants, stored as UTC.
      const { digits, unit } = TIMESTAMP_UNITS.find((candidate) => candidate.digits >= scale) ?? TIMESTAMP_UNITS[3]!;
      return plan('timestamp', new Timestamp(unit, column.type === 'timestamp_ntz' ? null : 'UTC'), digits);
    }
    case 'binary':
      return plan('binary', new Binary());
    default:
      throw new PartitionError('UNSUPPORTED_TYPE', `Snowflake column ${JSON.stringify(column.name)} has type ${column.type}, which Loom does not read; cast it in the query`);
  }
}

/** What a column accumulator takes: the driver's value for one row (null for SQL NULL). */
export interface ColumnAccumulator {
  append(value: unknown): void;
  finish(): Data;
}

export function columnAccumulator(plan: ColumnPlan): ColumnAccumulator {
  const name = plan.field.name;
  switch (plan.kind) {
    case 'int64':
      return new FixedWidth(plan.field.type, BigInt64Array, 1, (out, at, value) => { out[at] = int64(value, name); });
    case 'decimal':
      return new FixedWidth(plan.field.type, Uint32Array, 4, (out, at, value) => writeDecimal128(out, at, decimalUnits(value, plan.scale, name)));
    case 'float64':
      return new FixedWidth(plan.field.type, Float64Array, 1, (out, at, value) => { out[at] = float(value, name); });
    case 'date':
      return new FixedWidth(plan.field.type, Int32Array, 1, (out, at, value) => { out[at] = Math.floor(sfDate(value, name).getEpochSeconds() / 86400); });
    case 'time':
      return new FixedWidth(plan.field.type, BigInt64Array, 1, (out, at, value) => { out[at] = timeOfDayNanos(value, name); });
    case 'timestamp': {
      const perSecond = 10n ** BigInt(plan.scale);
      const nanosPerUnit = 10 ** (9 - plan.scale);
      return new FixedWidth(plan.field.type, BigInt64Array, 1, (out, at, value) => {
        const date = sfDate(value, name);
        out[at] = BigInt(date.getEpochSeconds()) * perSecond + BigInt(Math.floor(date.getNanoSeconds() / nanosPerUnit));
      });
    }
    case 'bool':
      return new Built(plan.field.type, (value) => {
        if (typeof value !== 'boolean') throw badValue(name, value, 'a boolean');
        return value;
      });
    case 'utf8':
      return new Built(plan.field.type, (value) => String(value));
    case 'json':
      // VARIANT arrives as its JSON text (fetched as string); OBJECT and ARRAY the driver parses, so re-serialize.
      return new Built(plan.field.type, (value) => (typeof value === 'string' ? value : JSON.stringify(value)));
    case 'binary':
      return new Built(plan.field.type, (value) => {
        if (!(value instanceof Uint8Array)) throw badValue(name, value, 'a Buffer');
        return value;
      });
  }
}

type Typed = BigInt64Array | Float64Array | Int32Array | Uint32Array;

/** A fixed-width column in a growable typed array with its validity bitmap. */
class FixedWidth<T extends Typed> implements ColumnAccumulator {
  private values: T;
  private validity = new Uint8Array(128);
  private length = 0;
  private nulls = 0;

  constructor(
    private readonly type: DataType,
    private readonly make: new (length: number) => T,
    private readonly stride: number,
    private readonly write: (out: T, at: number, value: unknown) => void,
  ) {
    this.values = new make(1024 * stride);
  }

  append(value: unknown): void {
    const at = this.length++;
    if (at * this.stride >= this.values.length) {
      const grown = new this.make(this.values.length * 2);
      grown.set(this.values as never);
      this.values = grown;
    }
    if ((at >> 3) >= this.validity.length) {
      const grown = new Uint8Array(this.validity.length * 2);
      grown.set(this.validity);
      this.validity = grown;
    }
    if (value === null || value === undefined) {
      this.nulls++;
      return;
    }
    this.validity[at >> 3]! |= 1 << (at & 7);
    this.write(this.values, at * this.stride, value);
  }

  finish(): Data {
    const data = this.values.subarray(0, this.length * this.stride);
    const nullBitmap = this.nulls === 0 ? undefined : this.validity.subarray(0, (this.length + 7) >> 3);
    return makeData({ type: this.type, length: this.length, nullCount: this.nulls, data, nullBitmap } as never);
  }
}

/** Variable-width and boolean columns through Arrow's own builders. */
class Built implements ColumnAccumulator {
  private readonly builder;

  constructor(type: DataType, private readonly convert: (value: unknown) => unknown) {
    this.builder = makeBuilder({ type, nullValues: [null, undefined] });
  }

  append(value: unknown): void {
    this.builder.append(value === null || value === undefined ? null : this.convert(value));
  }

  finish(): Data {
    return this.builder.finish().flush();
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function int64(value: unknown, name: string): bigint {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw badValue(name, value, 'an integer');
  const integer = BigInt(value);
  if (integer < INT64_MIN || integer > INT64_MAX) {
    throw new PartitionError('BAD_VALUE', `Snowflake column ${JSON.stringify(name)}: ${value} does not fit in Int64; read it with wideIntegers: 'decimal128' or cast it in the query`);
  }
  return integer;
}

/** The decimal text as an integer count of 10^-scale units, exactly (never through a float). */
export function decimalUnits(value: unknown, scale: number, name: string): bigint {
  const match = typeof value === 'string' ? /^(-?)(\d*)(?:\.(\d*))?$/.exec(value) : null;
  if (match === null) throw badValue(name, value, 'a decimal number');
  const fraction = match[3] ?? '';
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale))) {
    throw new PartitionError('BAD_VALUE', `Snowflake column ${JSON.stringify(name)}: ${String(value)} has more than ${scale} digits after the point`);
  }
  const units = BigInt(`${match[2] || '0'}${fraction.slice(0, scale).padEnd(scale, '0')}`);
  return match[1] === '-' ? -units : units;
}

function writeDecimal128(out: Uint32Array, at: number, units: bigint): void {
  let word = BigInt.asUintN(128, units);
  for (let i = 0; i < 4; i++) {
    out[at + i] = Number(word & 0xffffffffn);
    word >>= 32n;
  }
}

function float(value: unknown, name: string): number {
  if (typeof value !== 'string') throw badValue(name, value, 'a number');
  switch (value.toLowerCase()) {
    case 'inf': case 'infinity': return Infinity;
    case '-inf': case '-infinity': return -Infinity;
    case 'nan': return NaN;
  }
  const number = Number(value);
  if (Number.isNaN(number) || value.trim() === '') throw badValue(name, value, 'a number');
  return number;
}

/** The driver's date/timestamp value: a Date carrying the exact epoch seconds and nanoseconds. */
interface SfDate {
  getEpochSeconds(): number;
  getNanoSeconds(): number;
}

function sfDate(value: unknown, name: string): SfDate {
  const date = value as Partial<SfDate> | null;
  if (typeof date?.getEpochSeconds !== 'function' || typeof date.getNanoSeconds !== 'function') throw badValue(name, value, 'a Snowflake date');
  return date as SfDate;
}

/** TIME arrives formatted by TIME_OUTPUT_FORMAT, which the reader sets to HH24:MI:SS.FF9 so no digit is lost. */
function timeOfDayNanos(value: unknown, name: string): bigint {
  const match = typeof value === 'string' ? /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(value) : null;
  if (match === null) throw badValue(name, value, 'a time of day HH:MM:SS.fffffffff');
  const seconds = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
  return BigInt(seconds) * 1_000_000_000n + BigInt((match[4] ?? '').padEnd(9, '0'));
}

function badValue(name: string, value: unknown, expected: string): PartitionError {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
  return new PartitionError('BAD_VALUE', `Snowflake column ${JSON.stringify(name)}: expected ${expected}, got ${shown}`);
}
