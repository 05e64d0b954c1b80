// What a source reader hands the batch: one time column in ascending order and the requested value columns
// aligned with it, or for each column (or the whole source) the reason it cannot be used. Readers share the
// conversions here: any numeric cell to a double (null to NaN), rows put in time order, ranges found by
// binary search.
import type { SliceFailureCode } from '../train-many/batch-wire.js';

export interface Problem {
  code: SliceFailureCode;
  message: string;
}

export interface SourceData {
  /** Ascending; rows whose time is missing are dropped. */
  times: Float64Array;
  /** One per requested column, aligned with `times`: the values (NaN where missing) or why it is unusable. */
  columns: Array<Float64Array | Problem>;
  rows: number;
}

export type SourceRead = SourceData | Problem;

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

/** A cell as a double: numbers as they are, bigints converted, null and undefined as NaN. */
export function toDouble(cell: unknown): number {
  if (typeof cell === 'number') return cell;
  if (typeof cell === 'bigint') return Number(cell);
  if (cell === null || cell === undefined) return NaN;
  if (cell instanceof Date) return cell.getTime();
  return Number(cell);
}

/** Copies cells [start, end) of `cells` (a typed array or an array of cells) into `target` from `at`. */
export function copyDoubles(cells: ArrayLike<unknown>, start: number, end: number, target: Float64Array, at: number): void {
  if (cells instanceof Float64Array || cells instanceof Float32Array || cells instanceof Int32Array) {
    target.set(cells.subarray(start, end), at);
    return;
  }
  for (let i = start; i < end; i++) target[at + i - start] = toDouble(cells[i]);
}

/**
 * Puts rows in ascending time order, dropping rows without a time. Sources are usually ordered already (the
 * database query sorts; files are written in time order), which costs one check; otherwise rows are sorted
 * by a permutation, stable, so equal times keep their file order.
 */
export function inTimeOrder(times: Float64Array, columns: Array<Float64Array | Problem>): SourceData {
  let ordered = true;
  let missing = 0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (Number.isNaN(t)) missing++;
    else if (i > 0 && t < times[i - 1]!) ordered = false;
  }
  if (ordered && missing === 0) return { times, columns, rows: times.length };
  const order: number[] = [];
  for (let i = 0; i < times.length; i++) if (!Number.isNaN(times[i]!)) order.push(i);
  if (!ordered) order.sort((a, b) => times[a]! - times[b]! || a - b);
  const permute = (values: Float64Array): Float64Array => {
    const out = new Float64Array(order.length);
    for (let k = 0; k < order.length; k++) out[k] = values[order[k]!]!;
    return out;
  };
  return { times: permute(times), columns: columns.map((column) => (isProblem(column) ? column : permute(column))), rows: times.length };
}

/** The first index whose time is >= `value`. */
export function lowerBound(times: Float64Array, value: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Ranges [from, to) merged where they overlap or touch, ascending: what a reader must read. */
export function unionOfRanges(ranges: Float64Array, first: number, count: number): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let i = first; i < first + count; i++) {
    for (const at of [4 * i, 4 * i + 2]) {
      const from = ranges[at]!;
      const to = ranges[at + 1]!;
      if (to > from) spans.push([from, to]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last !== undefined && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([span[0], span[1]]);
  }
  return merged;
}

/** At most `limit` ranges: the smallest gaps are closed (reading a little more, in fewer range scans). */
export function coarsened(ranges: Array<[number, number]>, limit: number): Array<[number, number]> {
  if (ranges.length <= limit) return ranges;
  // Gap i lies between range i - 1 and range i; close the smallest ones, keep the widest limit - 1.
  const gaps = Array.from({ length: ranges.length - 1 }, (_, k) => k + 1).sort((a, b) => gapBefore(ranges, b) - gapBefore(ranges, a));
  const kept = new Set(gaps.slice(0, limit - 1));
  const result: Array<[number, number]> = [[ranges[0]![0], ranges[0]![1]]];
  for (let i = 1; i < ranges.length; i++) {
    if (kept.has(i)) result.push([ranges[i]![0], ranges[i]![1]]);
    else result[result.length - 1]![1] = ranges[i]![1];
  }
  return result;
}

function gapBefore(ranges: Array<[number, number]>, i: number): number {
  return ranges[i]![0] - ranges[i - 1]![1];
}
