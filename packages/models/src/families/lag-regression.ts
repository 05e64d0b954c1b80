// Least squares of x[t] on an intercept and its own lags x[t-1..t-p], the kernel of `ar` (and of the long
// autoregression that starts `arima`). Fast because the regression matrix is never built: its cross products
// are lagged sums of one series, so the Gram matrix comes from one O(n p) pass and an O(p^2) recurrence.
// Accurate because the series is centered first and the intercept partialled out (Frisch-Waugh), so the
// normal equations see centered lag columns and Cholesky loses little; the result matches a QR/SVD solve
// (statsmodels' OLS) to far below 1e-6 for any series whose lags are not near-collinear.
import { choleskyInPlace, choleskySolveInPlace } from './cholesky.js';
import { grown } from './differencing.js';
import { FamilyError } from './errors.js';

/** A lag regression's pivot below this fraction of its diagonal means collinear lags (condition beyond ~1e11). */
const PIVOT_TOLERANCE = 1e-11;
/** A series whose spread is below this fraction of its level is constant to working precision. */
const CONSTANT_TOLERANCE = 1e-12;

export interface LagFit {
  /** The intercept c of x[t] = c + sum phi_i x[t-i] + e[t], on the scale of the input. */
  intercept: number;
  /** Residual sum of squares over the nobs = n - p regression rows. */
  ssr: number;
  /** Sum of absolute residuals over the same rows. */
  sae: number;
  nobs: number;
}

/** Scratch memory for lag regressions, grown on demand and reused across fits (one per thread and family). */
export class LagRegression {
  private centered = new Float64Array(0);
  private gram = new Float64Array(0);
  private means = new Float64Array(0);
  private normal = new Float64Array(0);

  /**
   * Fits order p to x[0..n) and writes phi_1..phi_p into `phi` (length >= p). With `residuals`, also writes
   * e[t] for t = p..n-1 into residuals[t]. Throws SINGULAR for a constant series or collinear lags; the caller
   * guarantees finite values and n - p > p + 1.
   */
  fit(x: Float64Array, n: number, p: number, phi: Float64Array, residuals?: Float64Array): LagFit {
    const nobs = n - p;
    this.centered = grown(this.centered, n);
    const c = this.centered;
    let level = 0;
    for (let i = 0; i < n; i++) level += x[i]!;
    level /= n;
    if (!Number.isFinite(level)) throw new FamilyError('NON_FINITE', 'the series overflows double precision');
    let spread = 0;
    for (let i = 0; i < n; i++) {
      const v = x[i]! - level;
      c[i] = v;
      if (Math.abs(v) > spread) spread = Math.abs(v);
    }
    if (spread <= CONSTANT_TOLERANCE * Math.abs(level) || spread === 0) {
      throw new FamilyError('SINGULAR', `the series is constant (every value ${level}): its lag regression is singular`);
    }

    // Column j of the regression is c[t - j] over rows t = p..n-1 (j = 0 is the target). Window sums give the
    // column means; the first Gram row is p + 1 dot products; later rows follow from
    // G(i+1, j+1) = G(i, j) + c[p-1-i] c[p-1-j] - c[n-1-i] c[n-1-j] (the window shifted by one).
    const k = p + 1;
    this.gram = grown(this.gram, k * k);
    this.means = grown(this.means, k);
    const g = this.gram;
    const m = this.means;
    let window = 0;
    for (let t = p; t < n; t++) window += c[t]!;
    for (let j = 0; j < k; j++) {
      m[j] = window / nobs;
      if (j < p) window += c[p - 1 - j]! - c[n - 1 - j]!;
    }
    // Four lags per pass: four independent sums, where one sum per pass waits on its own previous addition
    // every step (an AR(8) fit spent about a third of its time here).
    let j = 0;
    for (; j + 4 <= k; j += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = p; t < n; t++) {
        const v = c[t]!;
        s0 += v * c[t - j]!;
        s1 += v * c[t - j - 1]!;
        s2 += v * c[t - j - 2]!;
        s3 += v * c[t - j - 3]!;
      }
      g[j] = s0;
      g[j + 1] = s1;
      g[j + 2] = s2;
      g[j + 3] = s3;
    }
    for (; j < k; j++) {
      let sum = 0;
      for (let t = p; t < n; t++) sum += c[t]! * c[t - j]!;
      g[j] = sum;
    }
    for (let i = 0; i < p; i++) {
      const head = c[p - 1 - i]!;
      const tail = c[n - 1 - i]!;
      for (let j = i; j < p; j++) g[(i + 1) * k + j + 1] = g[i * k + j]! + head * c[p - 1 - j]! - tail * c[n - 1 - j]!;
    }

    // Normal equations of the lags with the intercept partialled out: A = G - nobs m mᵀ over lags 1..p.
    this.normal = grown(this.normal, p * p);
    const a = this.normal;
    for (let i = 0; i < p; i++) {
      for (let j = i; j < p; j++) {
        const v = g[(i + 1) * k + j + 1]! - nobs * m[i + 1]! * m[j + 1]!;
        a[i * p + j] = v;
        a[j * p + i] = v;
      }
      phi[i] = g[i + 1]! - nobs * m[0]! * m[i + 1]!;
    }
    const bad = choleskyInPlace(a, p, PIVOT_TOLERANCE);
    if (bad >= 0) {
      throw new FamilyError('SINGULAR', `lag ${bad + 1} is (to working precision) a linear combination of the lower lags and the intercept: the AR(${p}) normal equations are singular`);
    }
    choleskySolveInPlace(a, p, phi);

    let centeredIntercept = m[0]!;
    let phiSum = 0;
    for (let i = 0; i < p; i++) {
      centeredIntercept -= phi[i]! * m[i + 1]!;
      phiSum += phi[i]!;
    }
    let ssr = 0;
    let sae = 0;
    for (let t = p; t < n; t++) {
      let e = c[t]! - centeredIntercept;
      for (let i = 0; i < p; i++) e -= phi[i]! * c[t - 1 - i]!;
      ssr += e * e;
      sae += Math.abs(e);
      if (residuals) residuals[t] = e;
    }
    return { intercept: centeredIntercept + level * (1 - phiSum), ssr, sae, nobs };
  }
}
