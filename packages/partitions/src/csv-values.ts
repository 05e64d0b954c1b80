// CSV field bytes to values, without making strings: int32, float64 (exactly rounded), bool and timestamp. Each
// returns NOT_A_VALUE for bytes that are not a value of its type; csv-columns.ts and csv-infer.ts both use them.

/** What a parser returns for bytes that are not a value of its type. */
export const NOT_A_VALUE = Symbol('not a value');

export const MINUS = 0x2d;
export const ZERO = 0x30;
const PLUS = 0x2b;
const DOT = 0x2e;

export function parseInt32(buf: Uint8Array, start: number, end: number): number | typeof NOT_A_VALUE {
  let i = start;
  const sign = buf[i] === MINUS ? -1 : 1;
  if (buf[i] === MINUS || buf[i] === PLUS) i++;
  if (i === end) return NOT_A_VALUE;
  let value = 0;
  for (; i < end; i++) {
    const d = (buf[i] as number) - ZERO;
    if (d < 0 || d > 9) return NOT_A_VALUE;
    value = value * 10 + d;
    if (value > 2147483648) return NOT_A_VALUE;
  }
  value *= sign;
  return value > 2147483647 ? NOT_A_VALUE : value;
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Decimal text to the nearest double. Fast path (Clinger): at most 15 significant digits and a power of ten
 * up to 22 are both exact doubles, so one multiply or divide rounds correctly. Anything else goes to Number().
 */
export function parseFloat64(buf: Uint8Array, start: number, end: number): number | typeof NOT_A_VALUE {
  let i = start;
  const negative = buf[i] === MINUS;
  if (negative || buf[i] === PLUS) i++;
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let sawDigit = false;
  let c = 0;
  for (; i < end; i++) {
    c = (buf[i] as number) - ZERO;
    if (c < 0 || c > 9) break;
    sawDigit = true;
    if (mantissa !== 0 || c !== 0) digits++;
    mantissa = mantissa * 10 + c;
  }
  if (i < end && buf[i] === DOT) {
    for (i++; i < end; i++) {
      c = (buf[i] as number) - ZERO;
      if (c < 0 || c > 9) break;
      sawDigit = true;
      if (mantissa !== 0 || c !== 0) digits++;
      mantissa = mantissa * 10 + c;
      scale--;
    }
  }
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45) && sawDigit) {
    i++;
    const expNegative = buf[i] === MINUS;
    if (expNegative || buf[i] === PLUS) i++;
    let exponent = 0;
    const expStart = i;
    for (; i < end && exponent < 100000; i++) {
      c = (buf[i] as number) - ZERO;
      if (c < 0 || c > 9) break;
      exponent = exponent * 10 + c;
    }
    if (i === expStart) return NOT_A_VALUE;
    scale += expNegative ? -exponent : exponent;
  }
  if (i === end && sawDigit && digits <= 15 && scale >= -22 && scale <= 22) {
    const magnitude = scale < 0 ? mantissa / (POW10[-scale] as number) : mantissa * (POW10[scale] as number);
    return negative ? -magnitude : magnitude;
  }
  return slowFloat(buf, start, end);
}

const FLOAT_SYNTAX = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:inf|infinity|Infinity|nan|NaN)$/;

function slowFloat(buf: Uint8Array, start: number, end: number): number | typeof NOT_A_VALUE {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
  if (!FLOAT_SYNTAX.test(text)) return NOT_A_VALUE;
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return text.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

/** true/false in any case, or 1/0. */
export function parseBool(buf: Uint8Array, start: number, end: number): boolean | undefined {
  const n = end - start;
  if (n === 1) {
    if (buf[start] === 0x31) return true;
    if (buf[start] === 0x30) return false;
    return undefined;
  }
  const word = n === 4 ? 'true' : n === 5 ? 'false' : undefined;
  if (word === undefined) return undefined;
  for (let i = 0; i < n; i++) if (((buf[start + i] as number) | 0x20) !== word.charCodeAt(i)) return undefined;
  return n === 4;
}

/**
 * ISO-8601-ish text to UTC milliseconds; no zone means UTC. Only real calendar dates and times are values
 * (2024-02-31 is not March 2nd, 23:59:60 is not the next minute: Arrow timestamps count no leap seconds).
 */
export function parseTimestamp(buf: Uint8Array, start: number, end: number): number | typeof NOT_A_VALUE {
  let i = start;
  const num = (width: number): number => {
    if (i + width > end) return -1;
    let value = 0;
    for (let k = 0; k < width; k++) {
      const d = (buf[i + k] as number) - ZERO;
      if (d < 0 || d > 9) return -1;
      value = value * 10 + d;
    }
    i += width;
    return value;
  };
  const year = num(4);
  if (year < 0 || buf[i++] !== MINUS) return NOT_A_VALUE;
  const month = num(2);
  if (month < 1 || month > 12 || buf[i++] !== MINUS) return NOT_A_VALUE;
  const day = num(2);
  if (day < 1 || day > daysInMonth(year, month)) return NOT_A_VALUE;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  if (i < end && (buf[i] === 0x54 || buf[i] === 0x20)) {
    i++;
    hour = num(2);
    if (hour < 0 || hour > 23 || buf[i++] !== 0x3a) return NOT_A_VALUE;
    minute = num(2);
    if (minute < 0 || minute > 59) return NOT_A_VALUE;
    if (i < end && buf[i] === 0x3a) {
      i++;
      second = num(2);
      if (second < 0 || second > 59) return NOT_A_VALUE;
      if (i < end && buf[i] === DOT) {
        i++;
        let scale = 100;
        const fractionStart = i;
        for (; i < end; i++) {
          const d = (buf[i] as number) - ZERO;
          if (d < 0 || d > 9) break;
          ms += d * scale;
          scale /= 10;
        }
        if (i === fractionStart) return NOT_A_VALUE;
        ms = Math.floor(ms);
      }
    }
  }
  let offsetMinutes = 0;
  if (i < end && buf[i] === 0x5a) {
    i++;
  } else if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) {
    const sign = buf[i] === MINUS ? -1 : 1;
    i++;
    const hours = num(2);
    if (hours < 0 || hours > 23) return NOT_A_VALUE;
    if (i < end && buf[i] === 0x3a) i++;
    const minutes = i < end ? num(2) : 0;
    if (minutes < 0 || minutes > 59) return NOT_A_VALUE;
    offsetMinutes = sign * (hours * 60 + minutes);
  }
  if (i !== end) return NOT_A_VALUE;
  // Not Date.UTC: it reads years 0-99 as 1900-1999.
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + ms;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1; // from March 1st
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

