// sum, mean, var and std as partials that merge: integer sums exact at any size (bigint, accumulated in
// exact float64 pieces between flushes), float sums compensated (Neumaier), and variance as (count, mean, M2)
// computed per partition by the corrected two-pass formula and merged by Chan et al.'s parallel update.
import type { Data } from 'apache-arrow';
import { forEachValue, hasPlainValues, isSet, kindMismatchError, nullBits, type ReductionColumn } from './reduction-column.js';

export type SumPartial =
  | { kind: 'null' }
  | { kind: 'int'; count: number; sum: bigint }
  | { kind: 'float'; count: number; sum: number; compensation: number };

/**
 * Variance partial: the mean is kept relative to `shift`, the partition's first value, so that values far from
 * zero but close together (1e9 + noise, int64 ids) keep their differences when partials merge: a mean near
 * 1e9 would be rounded to 1e-7 at every merge. Integer shifts are bigints, exact for int64.
 */
export type MomentsPartial =
  | { kind: 'null' }
  | { kind: 'int'; count: number; shift: bigint; mean: number; m2: number }
  | { kind: 'float'; count: number; shift: number; mean: number; m2: number };

// Float64 adds integers exactly while the total stays below 2^53. Each piece added is below 2^32 in magnitude
// (a 32-bit value, or one 32-bit word of a 64-bit value), so 2^20 of them are safe between flushes to bigint.
const FLUSH_EVERY = 1 << 20;
const WORD = 4294967296;

export function sumPartial(column: ReductionColumn): SumPartial {
  if (column.family === 'null') return { kind: 'null' };
  if (column.family === 'float') {
    const total = new CompensatedSum();
    let count = 0;
    for (const data of column.vector.data) {
      forEachValue(data, (value) => {
        total.add(value as number);
        count++;
      });
    }
    return { kind: 'float', count, sum: total.sum, compensation: total.compensation };
  }
  let sum = 0n;
  let count = 0;
  for (const data of column.vector.data) {
    const chunk = column.family === 'bool' ? sumBoolChunk(data) : sumIntChunk(data);
    sum += chunk.sum;
    count += chunk.count;
  }
  return { kind: 'int', count, sum };
}

export function mergeSums(a: SumPartial, b: SumPartial, column: string): SumPartial {
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if (a.kind === 'int' && b.kind === 'int') return { kind: 'int', count: a.count + b.count, sum: a.sum + b.sum };
  if (a.kind === 'float' && b.kind === 'float') {
    const total = new CompensatedSum(a.sum, a.compensation + b.compensation);
    total.add(b.sum);
    return { kind: 'float', count: a.count + b.count, sum: total.sum, compensation: total.compensation };
  }
  throw kindMismatchError(column, a.kind, b.kind);
}

/** The sum: a bigint for integer and bool columns (exact), a number for float columns, 0 when there is no value. */
export function finishSum(partial: SumPartial): number | bigint {
  switch (partial.kind) {
    case 'null':
      return 0;
    case 'int':
      return partial.sum;
    case 'float':
      return compensatedValue(partial.sum, partial.compensation);
  }
}

/** The mean as a number, null when there is no value. Integer means divide the exact sum. */
export function finishMean(partial: SumPartial): number | null {
  if (partial.kind === 'null' || partial.count === 0) return null;
  if (partial.kind === 'float') return compensatedValue(partial.sum, partial.compensation) / partial.count;
  // Whole part and remainder separately: Number(sum) / count would round the sum first once it passes 2^53.
  const count = BigInt(partial.count);
  return Number(partial.sum / count) + Number(partial.sum % count) / partial.count;
}

export function momentsPartial(column: ReductionColumn): MomentsPartial {
  if (column.family === 'null') return { kind: 'null' };
  const first = column.family === 'bool' ? 0 : firstValue(column);
  const shift = column.family === 'int' ? BigInt(first ?? 0) : Number(first ?? 0);
  // Corrected two-pass (Björck): the mean first, then squared deviations, less the rounding left in their sum.
  const total = new CompensatedSum();
  let count = 0;
  forEachShifted(column, shift, (x) => {
    total.add(x);
    count++;
  });
  const mean = count === 0 ? 0 : compensatedValue(total.sum, total.compensation) / count;
  let squares = 0;
  let deviations = 0;
  forEachShifted(column, shift, (x) => {
    const deviation = x - mean;
    squares += deviation * deviation;
    deviations += deviation;
  });
  const m2 = count === 0 ? 0 : Math.max(0, squares - (deviations * deviations) / count);
  return typeof shift === 'bigint' ? { kind: 'int', count, shift, mean, m2 } : { kind: 'float', count, shift, mean, m2 };
}

export function mergeMoments(a: MomentsPartial, b: MomentsPartial, column: string): MomentsPartial {
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if (a.kind !== b.kind) throw kindMismatchError(column, a.kind, b.kind);
  if (a.count === 0) return b;
  if (b.count === 0) return a;
  // b's mean on a's scale. Shifts are first values of partitions: their difference is exact for integers below
  // 2^53 apart, and for floats within a factor of two of each other (Sterbenz), as badly conditioned data is.
  const shiftGap = a.kind === 'int' && b.kind === 'int' ? Number(b.shift - a.shift) : a.kind === 'float' && b.kind === 'float' ? b.shift - a.shift : 0;
  const bMean = b.mean + shiftGap;
  const count = a.count + b.count;
  const delta = bMean - a.mean;
  const mean = a.mean + (delta * b.count) / count;
  const m2 = a.m2 + b.m2 + ((delta * delta) * a.count * b.count) / count;
  return { ...a, count, mean, m2 };
}

/** The variance with `ddof` delta degrees of freedom (pandas' default 1); null when count <= ddof. */
export function finishVariance(partial: MomentsPartial, ddof: number): number | null {
  if (partial.kind === 'null' || partial.count - ddof <= 0) return null;
  return partial.m2 / (partial.count - ddof);
}

function sumIntChunk(data: Data): { sum: bigint; count: number } {
  const bits = nullBits(data);
  const wide = isWide(data);
  // 64-bit values are read as two 32-bit words (little-endian): the low word unsigned, the high one signed for Int64.
  const words = wide ? new Int32Array(data.values.buffer, data.values.byteOffset, data.length * 2) : undefined;
  const signedHigh = (data.type as { isSigned?: boolean }).isSigned !== false;
  const values = data.values as ArrayLike<number>;
  let sum = 0n;
  let low = 0;
  let high = 0;
  let pending = 0;
  let count = 0;
  for (let slot = 0; slot < data.length; slot++) {
    if (bits && !isSet(bits.bitmap, bits.offset + slot)) continue;
    count++;
    if (words) {
      low += words[2 * slot]! >>> 0;
      high += signedHigh ? words[2 * slot + 1]! : words[2 * slot + 1]! >>> 0;
    } else {
      low += values[slot]!;
    }
    if (++pending === FLUSH_EVERY) {
      sum += BigInt(high) * 4294967296n + BigInt(low);
      low = high = pending = 0;
    }
  }
  return { sum: sum + BigInt(high) * 4294967296n + BigInt(low), count };
}

function sumBoolChunk(data: Data): { sum: bigint; count: number } {
  const bits = nullBits(data);
  let trues = 0;
  let count = 0;
  for (let slot = 0; slot < data.length; slot++) {
    if (bits && !isSet(bits.bitmap, bits.offset + slot)) continue;
    count++;
    if (isSet(data.values as Uint8Array, data.offset + slot)) trues++;
  }
  return { sum: BigInt(trues), count };
}

/** The column's first value (a finite one for floats), undefined when it has none: moments are taken relative to it. */
function firstValue(column: ReductionColumn): number | bigint | undefined {
  for (const data of column.vector.data) {
    let first: number | bigint | undefined;
    forEachValue(data, (value) => {
      if (first === undefined && (typeof value !== 'number' || Number.isFinite(value))) first = value as number | bigint;
    });
    if (first !== undefined) return first;
  }
  return undefined;
}

/** Each value less `shift` as a float64 (exact for integers while the difference is below 2^53). */
function forEachShifted(column: ReductionColumn, shift: bigint | number, visit: (x: number) => void): void {
  const wideShift = BigInt(typeof shift === 'bigint' ? shift : 0);
  // shift = shiftHigh * 2^32 + shiftLow with the low word unsigned, whatever the sign of the column's words.
  const shiftHigh = Number(wideShift >> 32n);
  const shiftLow = Number(wideShift & 0xffffffffn);
  const shiftNumber = Number(shift);
  for (const data of column.vector.data) {
    if (column.family === 'bool') {
      forEachValue(data, (value) => visit(value ? 1 : 0));
    } else if (column.family === 'float' || !hasPlainValues(data) || !isWide(data)) {
      forEachValue(data, (value) => visit((value as number) - shiftNumber));
    } else {
      // (high - shiftHigh) * 2^32 is exact for any two 32-bit words; adding the low words' difference rounds
      // once, and not at all while the result is below 2^53.
      const words = new Int32Array(data.values.buffer, data.values.byteOffset, data.length * 2);
      const signedHigh = (data.type as { isSigned?: boolean }).isSigned !== false;
      forEachValue(data, (_value, slot) => {
        const high = signedHigh ? words[2 * slot + 1]! : words[2 * slot + 1]! >>> 0;
        visit((high - shiftHigh) * WORD + ((words[2 * slot]! >>> 0) - shiftLow));
      });
    }
  }
}

/** True for chunks of 64-bit stored values (int64, uint64, and the 64-bit temporal types). */
function isWide(data: Data): boolean {
  return data.values instanceof BigInt64Array || data.values instanceof BigUint64Array;
}

class CompensatedSum {
  constructor(
    public sum = 0,
    public compensation = 0,
  ) {}

  add(value: number): void {
    const total = this.sum + value;
    this.compensation += Math.abs(this.sum) >= Math.abs(value) ? this.sum - total + value : value - total + this.sum;
    this.sum = total;
  }
}

/** sum + compensation, except that an infinite or NaN sum stands as it is (its compensation is meaningless). */
function compensatedValue(sum: number, compensation: number): number {
  return Number.isFinite(sum) ? sum + compensation : sum;
}
