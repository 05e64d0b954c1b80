// The order reductions compare column values in: numbers and bigints by value (exactly, also with each other),
// false before true, and strings by Unicode code point, as Python and pandas order them (JavaScript's `<`
// compares UTF-16 code units, which puts U+10000 and above before U+E000-U+FFFF).
import type { ColumnKey } from './reduction-column.js';

export function compareKeys(a: ColumnKey, b: ColumnKey): number {
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** A code unit's rank in code-point order: surrogates (astral characters) after the rest of the BMP. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
