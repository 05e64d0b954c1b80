// The survival function P(D_n > x) of the one-sample two-sided Kolmogorov statistic, which the two-sample
// test uses asymptotically (n = the samples' effective size). It follows scipy's kolmogn (Simard and
// L'Ecuyer 2011): closed forms at the ends (Ruben-Gambino), twice the one-sided Smirnov tail where the two
// tails cannot overlap or barely do, the Durbin matrix (Marsaglia-Tsang-Wang) for the body at small n and
// Pelz-Good's expansion for the body at large n. Where scipy uses Pomeranz's recursion (n <= 140,
// 0.754693 < n x^2 <= 4) this uses the Durbin matrix: both are exact, so they differ only by rounding.
// One more difference: the one-sided tail is the exact Birnbaum-Tingey sum at every n, where scipy's
// smirnov switches to an asymptotic form beyond n = 1013 (samples of more than ~2000 on both sides).

const SCALE_EXPONENT = 128;
const SCALE = 2 ** SCALE_EXPONENT;
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;

export function kolmogorovSurvival(n: number, x: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    // P(D_n <= x) = n!/n^n (2t - 1)^n
    const cdf = n <= 140 ? productCdf(n, t) : Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return 1 - cdf;
  }
  if (t >= n - 1) return 2 * (1 - x) ** n;
  if (x >= 0.5) return 2 * smirnovSurvival(n, x);
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 4) return 1 - durbinMatrixCdf(n, x);
    return 2 * smirnovSurvival(n, x);
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return 2 * smirnovSurvival(n, x);
  if (n <= 100_000 && n * x ** 1.5 <= 1.4) return 1 - durbinMatrixCdf(n, x);
  return pelzGoodSurvival(n, x);
}

function productCdf(n: number, t: number): number {
  let p = 1;
  for (let i = 1; i <= n; i++) p *= (i / n) * (2 * t - 1);
  return p;
}

/** log(n! / n^n) by Stirling's series with n log n taken out first (no cancellation). */
function logFactorialOverPower(n: number): number {
  const coefficients = [
    -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
    -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
  ];
  const rn = 1 / n;
  let poly = 0;
  for (const c of coefficients) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

/**
 * One-sided Smirnov tail P(D+_n >= x), the Birnbaum-Tingey sum
 *   x sum_{j=0}^{floor(n(1-x))} C(n, j) (1 - x - j/n)^(n-j) (x + j/n)^(j-1),
 * each term taken through its logarithm so large n neither overflows nor underflows midway.
 */
function smirnovSurvival(n: number, x: number): number {
  const last = Math.floor(n * (1 - x));
  let logBinomial = 0;
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    const below = 1 - x - j / n;
    // below == 0 only at j = n(1 - x) < n, where the term is 0^(n-j) = 0.
    if (below > 0) sum += Math.exp(logBinomial + (n - j) * Math.log(below) + (j - 1) * Math.log(x + j / n));
    logBinomial += Math.log(n - j) - Math.log(j + 1);
  }
  return x * sum;
}

/**
 * P(D_n <= x) by Durbin's matrix: with x = (k - h)/n, the (k, k) entry of H^n times n!/n^n, H an
 * (2k-1)-square matrix; powers by squaring, rescaled by 2^128 whenever they grow, the exponent kept apart.
 */
function durbinMatrixCdf(n: number, d: number): number {
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let factorial = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = factorial;
    factorial /= j;
    v[j - 1] = (1 - h ** j) * factorial;
  }
  v[m - 1] = (1 + Math.max(2 * h - 1, 0) ** m - 2 * h ** m) * factorial;
  let matrix: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) matrix[r * m + i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) matrix[r * m] = v[r]!;
  for (let c = 0; c < m; c++) matrix[(m - 1) * m + c] = v[m - 1 - c]!;

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let exponent = 0;
  let matrixExponent = 0;
  for (let remaining = n; remaining > 0; remaining = Math.floor(remaining / 2)) {
    if (remaining % 2 === 1) {
      power = multiply(power, matrix, m);
      exponent += matrixExponent;
    }
    matrix = multiply(matrix, matrix, m);
    matrixExponent *= 2;
    if (Math.abs(matrix[(k - 1) * m + (k - 1)]!) > SCALE) {
      for (let i = 0; i < matrix.length; i++) matrix[i]! /= SCALE;
      matrixExponent += SCALE_EXPONENT;
    }
  }
  let p = power[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < 1 / SCALE) {
      p *= SCALE;
      exponent -= SCALE_EXPONENT;
    }
  }
  return p * 2 ** exponent;
}

function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a[i * m + l]!;
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j]! += ail * b[l * m + j]!;
    }
  }
  return out;
}

/**
 * Pelz and Good's expansion P(D_n <= x) ~ K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n^1.5 with z = x sqrt(n),
 * each K written with Jacobi theta functions so it converges fast for small z; returned as 1 - that.
 */
function pelzGoodSurvival(n: number, x: number): number {
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qLog = -PI2 / 8 / z2;
  if (qLog < -708) return 1;
  let q = Math.exp(qLog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const terms = [0, 0, 0, 0];
  const maxK = Math.ceil((16 * z) / Math.PI);
  for (let k = maxK; k > 0; k--) {
    const odd = 2 * k - 1;
    const o2 = odd * odd;
    const o4 = o2 * o2;
    const o6 = o4 * o2;
    const qPower = q ** (8 * k);
    const coefficients = [1, k1a + k1b * o2, k2a + k2b * o2 + k2c * o4, k3a + k3b * o2 + k3c * o4 + k3d * o6];
    for (let i = 0; i < 4; i++) terms[i] = terms[i]! * qPower + coefficients[i]!;
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) terms[i] = (terms[i]! * q * SQRT_2PI) / divisors[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxK; k > 0; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    k2extra += k2 * qk;
    k3extra += (sqrt3z + Math.PI * k) * (sqrt3z - Math.PI * k) * k2 * qk;
  }
  terms[2]! += (k2extra * PI2 * SQRT_2PI) / (-36 * z ** 3);
  terms[3]! += (k3extra * PI2 * SQRT_2PI) / (216 * z6);
  let survival = 1;
  for (let i = 0; i < 4; i++) survival -= terms[i]! / n ** (i / 2);
  return survival;
}
