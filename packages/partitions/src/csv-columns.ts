// Growable Arrow columns filled straight from CSV field bytes: numbers, booleans and timestamps are parsed
// without making strings, text bytes are copied into the Utf8 data buffer as they are. An empty unquoted field
// is null in every column type (pandas reads it as NaN); a quoted empty field is an empty string.
import { Bool, DataType, Float64, Int32, makeData, TimestampMillisecond, Utf8, type Data } from 'apache-arrow';
import { CR, FIELD_ESCAPED, FIELD_QUOTED, LF, QUOTE } from './csv-tokenizer.js';
import type { CsvType } from './csv-types.js';
import { MINUS, NOT_A_VALUE, parseBool, parseFloat64, parseInt32, parseTimestamp, ZERO } from './csv-values.js';

export interface ColumnBuilder {
  readonly length: number;
  /** Appends one field; returns undefined, or why the bytes are not a value of this column's type. */
  append(buf: Uint8Array, start: number, end: number, flags: number): string | undefined;
  /**
   * Reads an unquoted field starting at `start` straight into the column (csv-read.ts's one-pass path) and
   * returns where it ends, at `terminator`; or -1, the column unchanged, when the field is anything else: a
   * quote, a CR, another ending, the buffer's end, not a value of this type.
   */
  appendPlain(buf: Uint8Array, start: number, limit: number, delimiter: number, terminator: number): number;
  /** Drops rows from the end (a row that turned out bad after some of its fields were appended). */
  truncate(length: number): void;
  /**
   * Makes room for `rows` rows in all (text columns: at the bytes per row seen so far), so a block whose size
   * is known grows its buffers once instead of doubling its way up, copying each time.
   */
  reserve(rows: number): void;
  finish(): Data;
}

export function makeColumnBuilder(type: CsvType): ColumnBuilder {
  switch (type) {
    case 'int32':
      return new NumberColumn(new Int32(), Int32Array, parseInt32);
    case 'float64':
      return new NumberColumn(new Float64(), Float64Array, parseFloat64);
    case 'timestamp':
      return new TimestampColumn();
    case 'bool':
      return new BoolColumn();
    case 'utf8':
      return new Utf8Column();
  }
}

/** Where an unquoted field starting at `i` ends (a delimiter or LF), or -1 at a quote, a CR or the buffer's end. */
function plainFieldEnd(buf: Uint8Array, i: number, limit: number, delimiter: number): number {
  for (; i < limit; i++) {
    const c = buf[i] as number;
    if (c === delimiter || c === LF) return i;
    if (c === QUOTE || c === CR) return -1;
  }
  return -1;
}

/** appendPlain for columns without a one-pass reader of their own: find the field's end, then append it. */
function appendScanned(column: ColumnBuilder, buf: Uint8Array, start: number, limit: number, delimiter: number, terminator: number): number {
  const end = plainFieldEnd(buf, start, limit, delimiter);
  if (end === -1 || buf[end] !== terminator) return -1;
  return column.append(buf, start, end, 0) === undefined ? end : -1;
}

/**
 * Per-row validity bytes, packed into Arrow's bitmap at the end. Nothing is written until the first null: a
 * column without nulls (most) pays one branch per value.
 */
class Validity {
  /** Empty until the first null; from then on one byte per row. */
  bytes = new Uint8Array(0);
  nulls = 0;
  private rows = 1024;

  set(row: number, valid: boolean): void {
    if (this.bytes.length === 0) {
      if (valid) return;
      this.bytes = new Uint8Array(Math.max(this.rows, row + 1)).fill(1, 0, row);
    }
    if (row >= this.bytes.length) this.bytes = grow(this.bytes, row + 1);
    this.bytes[row] = valid ? 1 : 0;
    if (!valid) this.nulls++;
  }

  truncate(from: number, to: number): void {
    for (let i = to; i < from && i < this.bytes.length; i++) if (this.bytes[i] === 0) this.nulls--;
  }

  reserve(rows: number): void {
    this.rows = Math.max(this.rows, rows);
    if (this.bytes.length > 0) this.bytes = reserve(this.bytes, rows);
  }

  bitmap(length: number): Uint8Array | undefined {
    if (this.nulls === 0) return undefined;
    return packBits(this.bytes, length);
  }
}

type Parser = (buf: Uint8Array, start: number, end: number) => number | typeof NOT_A_VALUE;

class NumberColumn<A extends Int32Array | Float64Array> implements ColumnBuilder {
  length = 0;
  private values: A;
  private readonly validity = new Validity();

  private readonly int32: boolean;

  constructor(
    private readonly type: Int32 | Float64,
    ArrayType: new (n: number) => A,
    private readonly parse: Parser,
  ) {
    this.values = new ArrayType(1024);
    this.int32 = type instanceof Int32;
  }

  /** Int32 digits are parsed as they are scanned (parseInt32's rules; anything unusual goes the long way). */
  appendPlain(buf: Uint8Array, start: number, limit: number, delimiter: number, terminator: number): number {
    if (!this.int32) return appendScanned(this, buf, start, limit, delimiter, terminator);
    let i = start;
    const negative = i < limit && buf[i] === MINUS;
    if (negative) i++;
    const digitsFrom = i;
    let value = 0;
    for (; i < limit; i++) {
      const d = (buf[i] as number) - ZERO;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
      if (value > 2147483648) return -1;
    }
    if (i >= limit || buf[i] !== terminator) return -1;
    const row = this.length;
    if (i === start) {
      this.validity.set(row, false);
    } else {
      if (i === digitsFrom) return -1;
      if (negative) value = -value;
      if (value > 2147483647) return -1;
      if (row >= this.values.length) this.values = grow(this.values, row + 1);
      this.values[row] = value;
      this.validity.set(row, true);
    }
    this.length = row + 1;
    return i;
  }

  append(buf: Uint8Array, start: number, end: number, flags: number): string | undefined {
    const row = this.length;
    if (start === end && !(flags & FIELD_QUOTED)) {
      this.validity.set(row, false);
    } else {
      const value = this.parse(buf, start, end);
      if (value === NOT_A_VALUE) return notA(this.type instanceof Int32 ? 'an int32' : 'a float64', buf, start, end, flags);
      if (row >= this.values.length) this.values = grow(this.values, row + 1);
      this.values[row] = value;
      this.validity.set(row, true);
    }
    this.length = row + 1;
    return undefined;
  }

  truncate(length: number): void {
    this.validity.truncate(this.length, length);
    this.length = length;
  }

  reserve(rows: number): void {
    this.values = reserve(this.values, rows);
    this.validity.reserve(rows);
  }

  finish(): Data {
    return makeData({
      type: this.type as DataType,
      length: this.length,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.bitmap(this.length),
      data: this.values.subarray(0, this.length),
    } as never);
  }
}

class TimestampColumn implements ColumnBuilder {
  length = 0;

  appendPlain(buf: Uint8Array, start: number, limit: number, delimiter: number, terminator: number): number {
    return appendScanned(this, buf, start, limit, delimiter, terminator);
  }
  // int64 milliseconds written as (low, high) int32 pairs: no BigInt per value.
  private words = new Int32Array(2048);
  private readonly validity = new Validity();

  append(buf: Uint8Array, start: number, end: number, flags: number): string | undefined {
    const row = this.length;
    if (start === end && !(flags & FIELD_QUOTED)) {
      this.validity.set(row, false);
    } else {
      const ms = parseTimestamp(buf, start, end);
      if (ms === NOT_A_VALUE) return notA('a timestamp (YYYY-MM-DD[ HH:MM[:SS[.fff]]][Z|±HH:MM])', buf, start, end, flags);
      if (2 * row + 1 >= this.words.length) this.words = grow(this.words, 2 * row + 2);
      const high = Math.floor(ms / 4294967296);
      this.words[2 * row] = (ms - high * 4294967296) | 0;
      this.words[2 * row + 1] = high;
      this.validity.set(row, true);
    }
    this.length = row + 1;
    return undefined;
  }

  truncate(length: number): void {
    this.validity.truncate(this.length, length);
    this.length = length;
  }

  reserve(rows: number): void {
    this.words = reserve(this.words, 2 * rows);
    this.validity.reserve(rows);
  }

  finish(): Data {
    return makeData({
      type: new TimestampMillisecond(),
      length: this.length,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.bitmap(this.length),
      data: new BigInt64Array(this.words.buffer, 0, this.length),
    });
  }
}

class BoolColumn implements ColumnBuilder {
  length = 0;

  appendPlain(buf: Uint8Array, start: number, limit: number, delimiter: number, terminator: number): number {
    return appendScanned(this, buf, start, limit, delimiter, terminator);
  }
  private values = new Uint8Array(1024);
  private readonly validity = new Validity();

  append(buf: Uint8Array, start: number, end: number, flags: number): string | undefined {
    const row = this.length;
    if (start === end && !(flags & FIELD_QUOTED)) {
      this.validity.set(row, false);
    } else {
      const value = parseBool(buf, start, end);
      if (value === undefined) return notA('a bool (true/false/1/0)', buf, start, end, flags);
      if (row >= this.values.length) this.values = grow(this.values, row + 1);
      this.values[row] = value ? 1 : 0;
      this.validity.set(row, true);
    }
    this.length = row + 1;
    return undefined;
  }

  truncate(length: number): void {
    this.validity.truncate(this.length, length);
    this.length = length;
  }

  reserve(rows: number): void {
    this.values = reserve(this.values, rows);
    this.validity.reserve(rows);
  }

  finish(): Data {
    return makeData({
      type: new Bool(),
      length: this.length,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.bitmap(this.length),
      data: packBits(this.values, this.length),
    });
  }
}

class Utf8Column implements ColumnBuilder {
  length = 0;
  private bytes = new Uint8Array(64 * 1024);
  private byteLength = 0;
  private offsets = new Int32Array(1025);
  private readonly validity = new Validity();

  /** Short text is copied as it is scanned, with room made for PLAIN_COPY_BYTES first; longer text goes the long way. */
  appendPlain(buf: Uint8Array, start: number, limit: number, delimiter: number, terminator: number): number {
    const row = this.length;
    if (row + 1 >= this.offsets.length) this.offsets = grow(this.offsets, row + 2);
    let at = this.byteLength;
    if (at + PLAIN_COPY_BYTES > this.bytes.length) this.bytes = grow(this.bytes, at + PLAIN_COPY_BYTES);
    const bytes = this.bytes;
    const stop = Math.min(limit, start + PLAIN_COPY_BYTES);
    let i = start;
    for (; i < stop; i++) {
      const c = buf[i] as number;
      if (c === delimiter || c === LF || c === QUOTE || c === CR) break;
      bytes[at++] = c;
    }
    if (i === stop) return appendScanned(this, buf, start, limit, delimiter, terminator);
    if (buf[i] !== terminator) return -1;
    if (i === start) {
      this.validity.set(row, false);
    } else {
      this.byteLength = at;
      this.validity.set(row, true);
    }
    this.offsets[row + 1] = this.byteLength;
    this.length = row + 1;
    return i;
  }

  append(buf: Uint8Array, start: number, end: number, flags: number): string | undefined {
    const row = this.length;
    if (row + 1 >= this.offsets.length) this.offsets = grow(this.offsets, row + 2);
    if (start === end && !(flags & FIELD_QUOTED)) {
      this.validity.set(row, false);
    } else {
      let at = this.byteLength;
      if (at + (end - start) > this.bytes.length) this.bytes = grow(this.bytes, at + (end - start));
      if (flags & FIELD_ESCAPED) {
        for (let i = start; i < end; i++) {
          const c = buf[i] as number;
          this.bytes[at++] = c;
          if (c === QUOTE) i++; // "" inside a quoted field is one quote
        }
      } else if (end - start < 64) {
        // A byte loop beats subarray()+set() for the short strings most CSV fields are.
        const bytes = this.bytes;
        for (let i = start; i < end; i++) bytes[at++] = buf[i] as number;
      } else {
        this.bytes.set(buf.subarray(start, end), at);
        at += end - start;
      }
      this.byteLength = at;
      this.validity.set(row, true);
    }
    this.offsets[row + 1] = this.byteLength;
    this.length = row + 1;
    return undefined;
  }

  truncate(length: number): void {
    this.validity.truncate(this.length, length);
    this.length = length;
    this.byteLength = this.offsets[length] as number;
  }

  reserve(rows: number): void {
    this.offsets = reserve(this.offsets, rows + 1);
    if (this.length > 0) this.bytes = reserve(this.bytes, Math.ceil((this.byteLength / this.length) * rows));
    this.validity.reserve(rows);
  }

  finish(): Data {
    return makeData({
      type: new Utf8(),
      length: this.length,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.bitmap(this.length),
      valueOffsets: this.offsets.subarray(0, this.length + 1),
      data: this.bytes.subarray(0, this.byteLength),
    });
  }
}

/** How much text Utf8Column.appendPlain copies while scanning (most CSV text fields are shorter). */
const PLAIN_COPY_BYTES = 64;

function notA(what: string, buf: Uint8Array, start: number, end: number, flags: number): string {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, Math.min(end - start, 60)).toString('utf8');
  const shown = flags & FIELD_ESCAPED ? text.replaceAll('""', '"') : text;
  return `expected ${what}, found ${JSON.stringify(shown)}${end - start > 60 ? '...' : ''}`;
}

function grow<A extends Uint8Array | Int32Array | Float64Array>(array: A, atLeast: number): A {
  const next = new (array.constructor as new (n: number) => A)(Math.max(atLeast, array.length * 2));
  next.set(array);
  return next;
}

/** `array` with room for at least `size` elements, reallocated (to exactly that) only when it has less. */
function reserve<A extends Uint8Array | Int32Array | Float64Array>(array: A, size: number): A {
  if (array.length >= size) return array;
  const next = new (array.constructor as new (n: number) => A)(size);
  next.set(array);
  return next;
}

function packBits(bytes: Uint8Array, length: number): Uint8Array {
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (bytes[i]) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}
