// Stationarity of AR polynomials and invertibility of MA polynomials, tested with the Schur-Cohn step-down
// (inverse Levinson-Durbin) recursion: a lag polynomial 1 - a_1 z - ... - a_m z^m has every root outside the
// unit circle exactly when every reflection coefficient it steps down through has modulus below 1.

/** Reflection coefficients at or beyond this modulus count as on the unit circle. */
const BOUNDARY = 1 - 1e-7;

/**
 * Whether x[t] = sum a_i x[t-i], with a_i = sign * coefficients[offset + i - 1] (i = 1..m), is stationary.
 * Pass sign = -1 for an MA part 1 + theta_1 z + ...: it is invertible when the AR form with a_i = -theta_i is
 * stationary. `scratch` needs 2m entries.
 */
export function isStable(coefficients: Float64Array, offset: number, m: number, sign: 1 | -1, scratch: Float64Array): boolean {
  let a = scratch.subarray(0, m);
  let next = scratch.subarray(m, 2 * m);
  for (let i = 0; i < m; i++) a[i] = sign * coefficients[offset + i]!;
  for (let order = m; order >= 1; order--) {
    const kappa = a[order - 1]!;
    if (!(Math.abs(kappa) < BOUNDARY)) return false;
    const scale = 1 - kappa * kappa;
    for (let i = 0; i < order - 1; i++) next[i] = (a[i]! + kappa * a[order - 2 - i]!) / scale;
    [a, next] = [next, a];
  }
  return true;
}

/**
 * Pulls a polynomial inside the admissible region by damping coefficient i by rho^i (which moves every root
 * outward by 1/rho) until it is stable. Used to repair starting values, never a fitted optimum.
 */
export function dampUntilStable(coefficients: Float64Array, offset: number, m: number, sign: 1 | -1, scratch: Float64Array): void {
  for (let attempt = 0; attempt < 400 && !isStable(coefficients, offset, m, sign, scratch); attempt++) {
    let factor = 1;
    for (let i = 0; i < m; i++) {
      factor *= 0.97;
      coefficients[offset + i] = coefficients[offset + i]! * factor;
    }
  }
}
