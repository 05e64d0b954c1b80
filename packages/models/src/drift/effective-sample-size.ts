// How many independent observations a serially correlated sample is worth. For a stationary AR(1) with
// lag-1 autocorrelation rho the variance of a sample mean is that of n (1 - rho) / (1 + rho) independent
// values; the same factor bounds the variance of a bin's share of the sample, since the bin indicators of a
// Gaussian AR(1) are less correlated than its values. Negative rho is taken as 0, so the correction never
// makes a sample count for more than its length.

/** The sample's lag-1 autocorrelation (the usual biased estimator: lag-1 covariance over variance); 0 for a constant sample. */
export function lag1Autocorrelation(values: Float64Array): number {
  const n = values.length;
  if (n < 2) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let lagged = 0;
  let squares = 0;
  let previous = values[0]! - mean;
  squares += previous * previous;
  for (let i = 1; i < n; i++) {
    const centred = values[i]! - mean;
    lagged += centred * previous;
    squares += centred * centred;
    previous = centred;
  }
  return squares === 0 ? 0 : lagged / squares;
}

/** n (1 - rho) / (1 + rho) with rho clamped to [0, 1), never below 1 observation. */
export function effectiveSampleSize(n: number, rho: number): number {
  const r = Math.min(Math.max(rho, 0), 1 - 1e-12);
  return Math.max(1, (n * (1 - r)) / (1 + r));
}
