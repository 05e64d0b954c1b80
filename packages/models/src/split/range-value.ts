// Parsing a split's range bounds: ISO 8601 timestamps (to ms since the epoch, UTC unless an offset is given) or
// plain decimal numbers. Strict on purpose: Date.parse accepts "2024-02-30" and reads a time without an offset
// as local time, and Number() accepts "" and "0x10"; a range bound read wrongly trains on the wrong data.

export type RangeKind = 'timestamp' | 'number';

export interface RangeValue {
  kind: RangeKind;
  /** ms since the epoch for a timestamp, the number itself otherwise. */
  value: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A range bound from its text, or the reason it is not one. */
export function parseRangeText(text: string): RangeValue | string {
  const trimmed = text.trim();
  if (trimmed === '') return 'missing value';
  if (DECIMAL.test(trimmed)) {
    const value = Number(trimmed);
    return Number.isFinite(value) ? { kind: 'number', value } : `number out of range: ${JSON.stringify(text)}`;
  }
  const match = ISO.exec(trimmed);
  if (match === null) return `not an ISO 8601 timestamp or a number: ${JSON.stringify(text)}`;
  const value = isoToMs(match);
  return typeof value === 'number' ? { kind: 'timestamp', value } : `${value}: ${JSON.stringify(text)}`;
}

function isoToMs(match: RegExpExecArray): number | string {
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset] = match as unknown as string[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12) return 'month out of range';
  if (day < 1 || day > daysInMonth(year, month)) return 'day out of range';
  // 24:00 is ISO's end of a day; it is rejected rather than read as the next midnight, to keep one spelling.
  if (hour > 23 || minute > 59 || second > 59) return 'time of day out of range';
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC maps years 0-99 to 1900-1999.
  if (year < 100) ms = new Date(ms).setUTCFullYear(year);
  if (fraction !== '') ms += Number(`0.${fraction}`) * 1000;
  if (offset !== undefined && offset !== 'Z') {
    const digits = offset.replace(':', '');
    const offsetHours = Number(digits.slice(1, 3));
    const offsetMinutes = Number(digits.slice(3, 5));
    if (offsetHours > 23 || offsetMinutes > 59) return 'UTC offset out of range';
    const sign = digits[0] === '-' ? -1 : 1;
    ms -= sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  return ms;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A range bound for messages: timestamps back in ISO form, numbers as they are. */
export function formatRangeValue(value: number, kind: RangeKind): string {
  return kind === 'timestamp' ? new Date(value).toISOString() : String(value);
}
