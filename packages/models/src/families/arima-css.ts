// Conditional sum of squares (CSS) estimation of a stationary, invertible ARMA(p, q) with optional mean:
//   (w[t] - mu) = sum phi_i (w[t-i] - mu) + e[t] + sum theta_j e[t-j],
// conditioning on the first p values and taking pre-sample errors as zero (the classical fast estimator).
// Starting values come from Hannan-Rissanen (a long autoregression estimates the errors, then one linear
// regression on lags and lagged errors); Levenberg-Marquardt then minimises the CSS, rejecting any step that
// leaves the stationary and invertible region, so the optimum it returns is always admissible.
import { choleskyInPlace, choleskySolveInPlace } from './cholesky.js';
import { grown } from './differencing.js';
import { FamilyError, isFamilyError } from './errors.js';
import { LagRegression } from './lag-regression.js';
import { dampUntilStable, isStable } from './polynomial-stability.js';

const MAX_ITERATIONS = 100;
/** Trial steps (accepted or not) per fit. */
const MAX_TRIALS = 300;
/** Stop when an accepted step lowers the CSS by less than this fraction ... */
const RELATIVE_DECREASE = 1e-10;
/** ... or moves no parameter by more than this (relative to 1 + |parameter|). */
const RELATIVE_STEP = 1e-8;

export interface ArmaOrder {
  readonly p: number;
  readonly q: number;
  /** Estimate the mean mu (else it is fixed at 0, as for a differenced series). */
  readonly withMean: boolean;
}

export interface CssFit {
  /** Residual sum of squares over t = p..n-1 and the count of those terms. */
  css: number;
  sae: number;
  terms: number;
  iterations: number;
}

/** Scratch memory for CSS fits, grown on demand and reused (one per thread and family). */
export class CssEstimator {
  private readonly regression = new LagRegression();
  private residuals = new Float64Array(0);
  private longResiduals = new Float64Array(0);
  private jacobian = new Float64Array(0);
  private normal = new Float64Array(0);
  private gradient = new Float64Array(0);
  private step = new Float64Array(0);
  private trial = new Float64Array(0);
  private longPhi = new Float64Array(0);
  private stability = new Float64Array(0);
  /** JᵀJ (size x size) and Jᵀe at the current parameters, left by the last sumOfSquares with derivatives. */
  private jtj = new Float64Array(0);
  private jte = new Float64Array(0);

  /**
   * Fits `order` to w[0..n) and writes [mu, phi_1..phi_p, theta_1..theta_q] into `beta` (mu is written as 0
   * without a mean). The caller guarantees finite values and enough of them.
   */
  fit(w: Float64Array, n: number, order: ArmaOrder, beta: Float64Array): CssFit {
    const { p, q } = order;
    const size = 1 + p + q;
    this.residuals = grown(this.residuals, n);
    this.jacobian = grown(this.jacobian, n * size);
    this.normal = grown(this.normal, size * size);
    this.gradient = grown(this.gradient, size);
    this.step = grown(this.step, size);
    this.trial = grown(this.trial, size);
    this.stability = grown(this.stability, 2 * Math.max(p, q, 1));
    this.jtj = grown(this.jtj, size * size);
    this.jte = grown(this.jte, size);

    this.startingValues(w, n, order, beta);
    dampUntilStable(beta, 1, p, 1, this.stability);
    dampUntilStable(beta, 1 + p, q, -1, this.stability);

    let css = this.sumOfSquares(w, n, order, beta, true);
    if (!Number.isFinite(css)) throw new FamilyError('NOT_CONVERGED', 'the CSS is not finite at the starting values');
    // The mean is a free parameter only with withMean; its row and column are skipped otherwise.
    const first = order.withMean ? 0 : 1;
    const free = size - first;
    // Levenberg-Marquardt with Nielsen's damping update (the gain ratio of actual to predicted decrease
    // steers lambda smoothly, which avoids the accept/reject zigzag of a fixed x10 schedule in ARMA valleys).
    let lambda = 1e-3;
    let growth = 2;
    let iterations = 0;
    for (let trials = 0; free > 0 && iterations < MAX_ITERATIONS && trials < MAX_TRIALS && lambda < 1e12; trials++) {
      // (JᵀJ + lambda diag(JᵀJ)) g = Jᵀe over the free parameters; the step is -g.
      this.assembleStep(lambda, size, first, free);
      const g = this.gradient;
      if (choleskyInPlace(this.normal, free, 0) >= 0) {
        lambda *= growth;
        growth *= 2;
        continue;
      }
      choleskySolveInPlace(this.normal, free, g);
      const t = this.trial;
      t.set(beta.subarray(0, size));
      let largestStep = 0;
      let predicted = 0;
      for (let i = 0; i < free; i++) {
        const c = first + i;
        t[c] = beta[c]! - g[i]!;
        largestStep = Math.max(largestStep, Math.abs(g[i]!) / (1 + Math.abs(beta[c]!)));
        // Decrease of ||e + J s||^2 for s = -g: gᵀJᵀe + lambda gᵀ diag(JᵀJ) g.
        predicted += g[i]! * this.jte[c]! + lambda * g[i]! * g[i]! * this.jtj[c * size + c]!;
      }
      const admissible = isStable(t, 1, p, 1, this.stability) && isStable(t, 1 + p, q, -1, this.stability);
      const trialCss = admissible ? this.sumOfSquares(w, n, order, t, false) : Infinity;
      if (!(trialCss < css)) {
        lambda *= growth;
        growth *= 2;
        continue;
      }
      const decrease = css - trialCss;
      const gain = decrease / predicted;
      beta.set(t.subarray(0, size));
      css = this.sumOfSquares(w, n, order, beta, true);
      iterations++;
      lambda *= Math.max(1 / 3, 1 - (2 * gain - 1) ** 3);
      growth = 2;
      if (decrease <= RELATIVE_DECREASE * css || largestStep <= RELATIVE_STEP) break;
    }
    // Trial steps overwrote the residuals; recompute them at the accepted optimum.
    css = this.sumOfSquares(w, n, order, beta, false);
    if (!Number.isFinite(css)) throw new FamilyError('NOT_CONVERGED', 'the CSS is not finite at the optimum');
    let sae = 0;
    for (let t = p; t < n; t++) sae += Math.abs(this.residuals[t]!);
    return { css, sae, terms: n - p, iterations };
  }

  /** Copies the damped JᵀJ and Jᵀe of the free parameters (left by the last pass with derivatives) into the solve buffers. */
  private assembleStep(lambda: number, size: number, first: number, free: number): void {
    const jtj = this.jtj;
    const jte = this.jte;
    for (let i = 0; i < free; i++) {
      for (let j = 0; j < free; j++) this.normal[i * free + j] = jtj[(first + i) * size + first + j]!;
      this.normal[i * free + i] = jtj[(first + i) * size + first + i]! * (1 + lambda);
      this.gradient[i] = jte[first + i]!;
    }
  }

  /**
   * The CSS at `beta`; with `derivatives`, also the residuals, and JᵀJ and Jᵀe of de/dbeta (by the recursions
   * de[t]/dmu = -(1 - sum phi) - sum theta_j de[t-j]/dmu, de[t]/dphi_i = -r[t-i] - sum theta_j de[t-j]/dphi_i,
   * de[t]/dtheta_j = -e[t-j] - sum theta_l de[t-l]/dtheta_j).
   */
  private sumOfSquares(w: Float64Array, n: number, order: ArmaOrder, beta: Float64Array, derivatives: boolean): number {
    const { p, q } = order;
    const size = 1 + p + q;
    const mu = beta[0]!;
    const e = this.residuals;
    const css = armaResiduals(w, n, p, q, beta, e);
    if (!derivatives) return css;

    const jtj = this.jtj.fill(0, 0, size * size);
    const jte = this.jte.fill(0, 0, size);
    const jac = this.jacobian;
    let phiSum = 0;
    for (let i = 1; i <= p; i++) phiSum += beta[i]!;
    for (let t = p; t < n; t++) {
      const row = t * size;
      jac[row] = -(1 - phiSum);
      for (let i = 1; i <= p; i++) jac[row + i] = -(w[t - i]! - mu);
      for (let j = 1; j <= q; j++) jac[row + p + j] = t - j >= p ? -e[t - j]! : 0;
      for (let l = 1; l <= q && t - l >= p; l++) {
        const theta = beta[p + l]!;
        const lagged = (t - l) * size;
        for (let c = 0; c < size; c++) jac[row + c] = jac[row + c]! - theta * jac[lagged + c]!;
      }
      const et = e[t]!;
      for (let a = 0; a < size; a++) {
        const ja = jac[row + a]!;
        jte[a] = jte[a]! + ja * et;
        for (let b = a; b < size; b++) jtj[a * size + b] = jtj[a * size + b]! + ja * jac[row + b]!;
      }
    }
    for (let a = 0; a < size; a++) for (let b = 0; b < a; b++) jtj[a * size + b] = jtj[b * size + a]!;
    return css;
  }

  /** Hannan-Rissanen: errors from a long autoregression, then least squares on lags and lagged errors. */
  private startingValues(w: Float64Array, n: number, order: ArmaOrder, beta: Float64Array): void {
    const { p, q, withMean } = order;
    const size = 1 + p + q;
    beta.fill(0, 0, size);
    let mean = 0;
    if (withMean) {
      for (let t = 0; t < n; t++) mean += w[t]!;
      mean /= n;
    }
    beta[0] = mean;
    if (p + q === 0) return;
    this.longResiduals = grown(this.longResiduals, n);
    const errors = this.longResiduals.fill(0, 0, n);
    let start = p;
    if (q > 0) {
      const long = Math.min(Math.max(2 * (p + q), 10), Math.floor((n - 2) / 3));
      this.longPhi = grown(this.longPhi, long);
      try {
        this.regression.fit(w, n, long, this.longPhi, errors);
      } catch (error) {
        if (!isFamilyError(error, 'SINGULAR')) throw error;
        return; // no usable long autoregression: start from white noise
      }
      start = long + q;
    }
    // Normal equations of r[t] on r[t-1..t-p] and errors[t-1..t-q], r = w - mean, rows t = start..n-1.
    const k = p + q;
    const a = this.normal.fill(0, 0, k * k);
    const b = this.gradient.fill(0, 0, k);
    const x = this.step;
    for (let t = start; t < n; t++) {
      for (let i = 0; i < p; i++) x[i] = w[t - 1 - i]! - mean;
      for (let j = 0; j < q; j++) x[p + j] = errors[t - 1 - j]!;
      const y = w[t]! - mean;
      for (let i = 0; i < k; i++) {
        b[i] = b[i]! + x[i]! * y;
        for (let j = i; j < k; j++) a[i * k + j] = a[i * k + j]! + x[i]! * x[j]!;
      }
    }
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) a[i * k + j] = a[j * k + i]!;
    if (choleskyInPlace(a, k, 1e-11) >= 0) return;
    choleskySolveInPlace(a, k, b);
    for (let i = 0; i < k; i++) beta[1 + i] = b[i]!;
  }
}

/**
 * The conditional residuals e[t] (t = p..n-1; e[t] = 0 before) of w[0..n) under
 * beta = [mu, phi_1..phi_p, theta_1..theta_q], written into `e`; returns their sum of squares.
 */
export function armaResiduals(w: Float64Array, n: number, p: number, q: number, beta: Float64Array, e: Float64Array): number {
  const mu = beta[0]!;
  for (let t = 0; t < Math.min(p, n); t++) e[t] = 0;
  let css = 0;
  for (let t = p; t < n; t++) {
    let v = w[t]! - mu;
    for (let i = 1; i <= p; i++) v -= beta[i]! * (w[t - i]! - mu);
    for (let j = 1; j <= q && t - j >= p; j++) v -= beta[p + j]! * e[t - j]!;
    e[t] = v;
    css += v * v;
  }
  return css;
}
