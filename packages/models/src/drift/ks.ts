// Two-sample Kolmogorov-Smirnov test (two-sided), computed as scipy.stats.ks_2samp(method='auto') computes
// it, so a flag from Loom and one from a notebook agree:
// - D is the largest gap between the two empirical CDFs, both evaluated right-continuously at every value
//   of either sample (ties count whole, as searchsorted(side='right') does).
// - With both samples at most MAX_EXACT_N long, the p-value is exact: the share of lattice paths from
//   (0, 0) to (n1, n2) that leave the band |x/n1 - y/n2| < D (Hodges 1958), computed with Viehmann's
//   recursion for 1 - p (arXiv:2102.08037), which stays in [0, 1] and needs no big binomials; for n1 == n2
//   the closed alternating sum of binomial ratios. Like scipy, D is then reported as h / lcm(n1, n2), the
//   lattice value it was rounded to.
// - Otherwise (or if the n1 == n2 sum falls outside [0, 1] from cancellation), Smirnov's asymptotics: the
//   one-sample Kolmogorov distribution's survival function at D with n = round(n1 n2 / (n1 + n2)).
import { DriftError, requireFiniteSample } from './drift-method.js';
import { kolmogorovSurvival } from './kolmogorov-distribution.js';

/** scipy's MAX_AUTO_N: 'auto' is exact while neither sample is longer than this. */
export const MAX_EXACT_N = 10_000;

export interface KsResult {
  /** The two-sided statistic D = sup |F_reference - F_recent|. */
  readonly statistic: number;
  readonly pValue: number;
  /** Which computation gave the p-value. */
  readonly mode: 'exact' | 'asymptotic';
}

export function ksTwoSample(reference: Float64Array, recent: Float64Array): KsResult {
  requireFiniteSample(reference, 'reference');
  requireFiniteSample(recent, 'recent');
  const n1 = reference.length;
  const n2 = recent.length;
  const gap = largestCdfGap(Float64Array.from(reference).sort(), Float64Array.from(recent).sort());
  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    // Scaled by lcm/1 the gap is the integer (i n2 - j n1) / g; rounding recovers it from the float.
    const h = roundHalfEven(gap.value * lcm);
    const statistic = h / lcm;
    if (h === 0) return { statistic, pValue: 1, mode: 'exact' };
    const pValue = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h);
    if (pValue >= 0 && pValue <= 1) return { statistic, pValue, mode: 'exact' };
    return { statistic, pValue: asymptoticPValue(statistic, n1, n2), mode: 'asymptotic' };
  }
  return { statistic: gap.value, pValue: asymptoticPValue(gap.value, n1, n2), mode: 'asymptotic' };
}

function asymptoticPValue(statistic: number, n1: number, n2: number): number {
  const effectiveN = roundHalfEven((n1 * n2) / (n1 + n2));
  return clamp01(kolmogorovSurvival(effectiveN, statistic));
}

/**
 * sup |F1 - F2| over the merged values, each CDF taken as (count <= v) / n. The float difference
 * i/n1 - j/n2 is what scipy takes its maximum and minimum of, so the asymptotic path's D matches it bit
 * for bit.
 */
function largestCdfGap(sorted1: Float64Array, sorted2: Float64Array): { value: number } {
  const n1 = sorted1.length;
  const n2 = sorted2.length;
  let i = 0;
  let j = 0;
  let max = 0;
  let min = 0;
  while (i < n1 || j < n2) {
    // The next distinct value of either sample; step both samples past all its copies.
    const value = j >= n2 || (i < n1 && sorted1[i]! <= sorted2[j]!) ? sorted1[i]! : sorted2[j]!;
    while (i < n1 && sorted1[i] === value) i++;
    while (j < n2 && sorted2[j] === value) j++;
    const difference = i / n1 - j / n2;
    if (difference > max) max = difference;
    if (difference < min) min = difference;
  }
  return { value: Math.max(max, -min) };
}

/**
 * P(D >= h/n) for two samples of n each: 2 sum_k (-1)^(k+1) C(2n, n - kh) / C(2n, n), each ratio a product
 * of h simple factors, folded Horner-style to limit cancellation (scipy's _compute_prob_outside_square).
 */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    p = ratio * (1 - p);
  }
  return 2 * p;
}

/**
 * P(D >= h/lcm) for samples of m and n (m != n): one minus the share of monotone lattice paths staying
 * strictly inside |n x - m y| / g < h. A column of the path-count table is kept as "share of paths that
 * already left", a weighted mean of its neighbours, so every entry stays in [0, 1] (Viehmann's recursion;
 * scipy's _compute_outer_prob_inside_method).
 */
function probOutsideBand(first: number, second: number, g: number, h: number): number {
  const m = Math.max(first, second);
  const n = Math.min(first, second);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const length = Math.min(2 * maxj + 2, n + 1);
  const column = new Float64Array(length).fill(1);
  column.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let value = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      value = (column[jj + minj - lastminj]! * i + value * j) / (i + j);
      column[jj] = value;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) column.fill(1, curlen, curlen + (lastlen - curlen));
  }
  return column[maxj - minj - 1]!;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** numpy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function clamp01(p: number): number {
  if (Number.isNaN(p)) throw new DriftError('NON_FINITE', 'the Kolmogorov survival function gave NaN');
  return Math.min(1, Math.max(0, p));
}
