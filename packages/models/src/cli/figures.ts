// Figures for people: quantiles of a metric column over the models where it is defined, and numbers printed
// short (integers as they are, others to six significant digits).

export interface Quantiles {
  /** Values that are not NaN. */
  count: number;
  median: number;
  p90: number;
  max: number;
}

export function quantiles(values: Float64Array): Quantiles {
  const defined = values.filter((v) => !Number.isNaN(v)).sort();
  const at = (q: number): number => (defined.length === 0 ? NaN : (defined[Math.min(defined.length - 1, Math.floor(q * defined.length))] as number));
  return { count: defined.length, median: at(0.5), p90: at(0.9), max: at(1) };
}

export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value.toPrecision(6).replace(/\.?0+($|e)/, '$1');
}
