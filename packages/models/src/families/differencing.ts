// d-fold differencing for the integrated families, and its inverse for one-step-ahead forecasts.
// Differences are taken as repeated first differences, exactly as numpy.diff(y, n=d) does.

/** Writes the d-times differenced `source[0..n)` into `out` (length n - d) and returns n - d. */
export function differenceInto(source: Float64Array, n: number, d: number, out: Float64Array): number {
  if (d === 0) {
    out.set(n === source.length ? source : source.subarray(0, n));
    return n;
  }
  for (let i = 0; i + 1 < n; i++) out[i] = source[i + 1]! - source[i]!;
  // Further passes run in place: out[i] reads out[i + 1] before that entry is overwritten.
  for (let pass = 1; pass < d; pass++) {
    for (let i = 0; i + 1 < n - pass; i++) out[i] = out[i + 1]! - out[i]!;
  }
  return Math.max(0, n - d);
}

/** Returns a Float64Array of at least `length` entries, `current` when it is already big enough. */
export function grown(current: Float64Array<ArrayBuffer>, length: number): Float64Array<ArrayBuffer> {
  return current.length >= length ? current : new Float64Array(Math.max(length, current.length * 2));
}
