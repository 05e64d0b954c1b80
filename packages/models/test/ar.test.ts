// `ar` against statsmodels' AutoReg(trend='c') on many seeded stationary AR processes (d = 0, 1, 2), and its
// errors for series it cannot fit. One Python call computes every reference.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ar, isFamilyError } from '../src/index.js';
import { integrate, simulateArma, stationaryCoefficients, TestRng } from './families-series.js';
import { runPython, statsmodelsMissing } from './families-python.js';

interface ArCase {
  seed: number;
  p: number;
  d: number;
  train: number[];
  test: number[];
}

interface ArReference {
  params: number[];
  /** statsmodels' sigma2 (ssr / nobs). */
  sigma2: number;
  /** The same least squares solved on the centered series, and its ssr / nobs: accurate to rounding. */
  exact: number[];
  sigma2Exact: number;
  nobs: number;
  /** One-step-ahead predictions of the differenced test values, from AutoReg.predict on the whole series. */
  predicted: number[];
}

const AUTOREG = `
import json, sys, warnings
import numpy as np
from statsmodels.tsa.ar_model import AutoReg
warnings.simplefilter('ignore')
out = []
for case in json.load(open(sys.argv[1])):
    p, d = case['p'], case['d']
    train = np.asarray(case['train'], dtype=float)
    full = np.concatenate([train, np.asarray(case['test'], dtype=float)])
    w = np.diff(train, n=d) if d else train
    res = AutoReg(w, lags=p, trend='c').fit()
    # statsmodels' sigma2 is ssr / nobs, its residuals computed as y - X b on the raw series; where the level
    # dwarfs the noise (1e4 vs 1e-3) those residuals, and the intercept, carry rounding of ~1e-5 relative in
    # sigma2. The same least squares solved on the centered series (well conditioned) is the exact reference.
    m = w.mean(); c = w - m
    X = np.column_stack([np.ones(len(c) - p)] + [c[p - 1 - i:len(c) - 1 - i] for i in range(p)])
    b, *_ = np.linalg.lstsq(X, c[p:], rcond=None)
    e = c[p:] - X @ b
    exact = [float(b[0] + m * (1 - b[1:].sum()))] + list(map(float, b[1:]))
    wf = np.diff(full, n=d) if d else full
    pred = AutoReg(wf, lags=p, trend='c').predict(res.params, start=len(w), end=len(wf) - 1)
    out.append({'params': list(map(float, res.params)), 'sigma2': float(res.sigma2), 'nobs': int(res.nobs),
                'exact': exact, 'sigma2Exact': float(e @ e / res.nobs),
                'predicted': list(map(float, pred))})
print(json.dumps(out))
`;

function arCases(): ArCase[] {
  const cases: ArCase[] = [];
  const orders = [1, 2, 3, 5, 8, 12];
  const lengths = [60, 200, 720];
  const levels = [0, 37.5, 1e4];
  const scales = [1e-3, 1, 250];
  let seed = 1;
  for (const p of orders) {
    for (const d of [0, 1, 2]) {
      for (let r = 0; r < 3; r++, seed++) {
        const rng = new TestRng(seed);
        const n = lengths[(seed + r) % lengths.length]!;
        // Near-unit-root processes are the hard, well-conditioned-enough case: allow reflections up to 0.95.
        const phi = stationaryCoefficients(rng, p, r === 2 ? 0.95 : 0.8);
        const noise = simulateArma(rng, { phi, n: n + 24 - d, mean: d === 0 ? levels[r]! : 0.3, sigma: scales[(seed * 7) % 3]! });
        const series = integrate(noise, d, levels[r]!);
        cases.push({ seed, p, d, train: Array.from(series.subarray(0, n)), test: Array.from(series.subarray(n)) });
      }
    }
  }
  return cases;
}

/** |a - b| relative to |b|, floored at 1e-3 of the largest reference coefficient (a coefficient near 0 has no relative scale). */
function relativeError(actual: ArrayLike<number>, expected: readonly number[]): number {
  const scale = Math.max(...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), 1e-3 * scale));
  }
  return worst;
}

const missing = statsmodelsMissing();

test('ar coefficients, sigma and one-step forecasts match statsmodels AutoReg', { skip: missing }, () => {
  const cases = arCases();
  const references = runPython<ArReference[]>(AUTOREG, cases);
  let worstCoefficient = 0;
  let worstForecast = 0;
  let worstExact = 0;
  for (const [i, c] of cases.entries()) {
    const reference = references[i]!;
    const family = ar({ p: c.p, d: c.d });
    const train = Float64Array.from(c.train);
    const testValues = Float64Array.from(c.test);
    const fit = family.fit(train);
    const where = `seed ${c.seed} (p=${c.p}, d=${c.d}, n=${c.train.length})`;
    const coefficients = fit.params.subarray(0, c.p + 1);
    const coefficientError = relativeError(coefficients, reference.params);
    worstCoefficient = Math.max(worstCoefficient, coefficientError);
    assert.ok(coefficientError < 1e-6, `${where}: coefficients ${Array.from(coefficients)} vs statsmodels ${reference.params} (relative error ${coefficientError})`);
    const sigma = fit.params[c.p + 1]!;
    const exactError = relativeError(coefficients, reference.exact);
    worstExact = Math.max(worstExact, exactError);
    assert.ok(exactError < 1e-9, `${where}: coefficients ${Array.from(coefficients)} vs centered least squares ${reference.exact}`);
    assert.ok(Math.abs(sigma * sigma / reference.sigma2Exact - 1) < 1e-9, `${where}: sigma^2 ${sigma * sigma} vs centered ssr/nobs ${reference.sigma2Exact}`);
    assert.ok(Math.abs(sigma * sigma / reference.sigma2 - 1) < 1e-4, `${where}: sigma^2 ${sigma * sigma} vs statsmodels sigma2 ${reference.sigma2}`);
    assert.equal(c.train.length - c.d - c.p, reference.nobs, where);
    assert.ok(Math.abs(fit.trainRmse - sigma) < 1e-12 * sigma, where);

    // statsmodels predicts the differenced values; on the levels the forecast is actual - (w - w_hat).
    const predicted = family.predict(fit.params, train, testValues).predicted;
    const full = Float64Array.from([...c.train, ...c.test]);
    const w = difference(full, c.d).subarray(c.train.length - c.d);
    const spread = Math.max(...reference.predicted.map(Math.abs), 1e-300);
    for (let j = 0; j < testValues.length; j++) {
      const expected = testValues[j]! - (w[j]! - reference.predicted[j]!);
      const error = Math.abs(predicted[j]! - expected) / Math.max(Math.abs(expected), spread);
      worstForecast = Math.max(worstForecast, error);
      assert.ok(error < 1e-6, `${where}: forecast ${j} ${predicted[j]} vs statsmodels ${expected}`);
    }
  }
  console.log(`# ar vs statsmodels over ${cases.length} series: worst coefficient relative error ${worstCoefficient.toExponential(2)} (vs centered least squares ${worstExact.toExponential(2)}), worst forecast ${worstForecast.toExponential(2)}`);
});

function difference(x: Float64Array, d: number): Float64Array {
  let out = x;
  for (let pass = 0; pass < d; pass++) out = out.subarray(1).map((v, i) => v - out[i]!);
  return out;
}

function assertFamilyError(run: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isFamilyError(error), `expected a FamilyError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

test('ar rejects constant series as singular, also after differencing', () => {
  assertFamilyError(() => ar({ p: 2 }).fit(new Float64Array(100).fill(0.1)), 'SINGULAR', /constant/);
  assertFamilyError(() => ar({ p: 2 }).fit(new Float64Array(100)), 'SINGULAR', /constant/);
  const trend = Float64Array.from({ length: 100 }, (_, i) => 5 + 0.25 * i);
  assertFamilyError(() => ar({ p: 3, d: 1 }).fit(trend), 'SINGULAR', /constant/);
});

test('ar rejects collinear lags as singular', () => {
  // A noiseless sinusoid is exactly AR(2), so from p = 3 its lags are linear combinations of each other.
  const sine = Float64Array.from({ length: 200 }, (_, i) => Math.sin(0.3 * i));
  assertFamilyError(() => ar({ p: 4 }).fit(sine), 'SINGULAR', /lag 3 .*linear combination/);
  const fit = ar({ p: 2 }).fit(sine);
  assert.ok(Math.abs(fit.params[1]! - 2 * Math.cos(0.3)) < 1e-6 && Math.abs(fit.params[2]! + 1) < 1e-6, `sinusoid AR(2): ${fit.params}`);
});

test('ar rejects NaN, infinities and too-short series, naming the problem', () => {
  const rng = new TestRng(99);
  const series = simulateArma(rng, { phi: [0.5], n: 100 });
  series[17] = NaN;
  assertFamilyError(() => ar({ p: 2 }).fit(series), 'NON_FINITE', /value 17 is NaN/);
  series[17] = Infinity;
  assertFamilyError(() => ar({ p: 2 }).fit(series), 'NON_FINITE', /value 17 is Infinity/);
  assertFamilyError(() => ar({ p: 8 }).fit(new Float64Array(17)), 'TOO_SHORT', /17 values; ar\(p=8,d=0,k=3\) needs at least 18/);
  assertFamilyError(() => ar({ p: 8, d: 1 }).fit(new Float64Array(18)), 'TOO_SHORT', /needs at least 19/);
  const fit = ar({ p: 2 }).fit(simulateArma(rng, { phi: [0.5], n: 100 }));
  assertFamilyError(() => ar({ p: 2 }).predict(fit.params, new Float64Array(1), new Float64Array(5)), 'TOO_SHORT', /history .* 1 values/);
  assertFamilyError(() => ar({ p: 2 }).predict(fit.params, new Float64Array(3), Float64Array.of(1, NaN)), 'NON_FINITE', /test value 1 is NaN/);
  assertFamilyError(() => ar({ p: 3 }).predict(fit.params, new Float64Array(3), new Float64Array(5)), 'INVALID_PARAMS', /5 parameters, got 4/);
  assertFamilyError(() => ar({ p: -1 }), 'INVALID_PARAMS', /p must be an integer/);
  assertFamilyError(() => ar({ p: 2, d: 3 }), 'INVALID_PARAMS', /d must be an integer in \[0, 2\]/);
});

test('ar scratch buffers carry nothing from one fit to the next', () => {
  const rng = new TestRng(5);
  const short = simulateArma(rng, { phi: [0.6, -0.2], n: 80, mean: 3 });
  const long = simulateArma(rng, { phi: [0.1, 0.3], n: 700, mean: -40 });
  const shared = ar({ p: 2, d: 1 });
  const first = shared.fit(short).params;
  shared.fit(long);
  assert.deepEqual(shared.fit(short).params, first);
  assert.deepEqual(ar({ p: 2, d: 1 }).fit(short).params, first);
  const history = long.subarray(0, 600);
  const later = long.subarray(600);
  const model = shared.fit(history).params;
  const fresh = shared.predict(model, history, later);
  shared.predict(model, short, short);
  const out = { predicted: new Float64Array(200), lower: new Float64Array(200), upper: new Float64Array(200) };
  const reused = shared.predict(model, history, later, { out });
  assert.equal(reused, out);
  assert.deepEqual(out.predicted.subarray(0, later.length), fresh.predicted);
  assert.deepEqual(out.upper.subarray(0, later.length), fresh.upper);
});

test('ar band is forecast +- k sigma', () => {
  const rng = new TestRng(12);
  const series = simulateArma(rng, { phi: [0.7], n: 300 });
  const family = ar({ p: 1, k: 2 });
  const fit = family.fit(series.subarray(0, 250));
  const { predicted, lower, upper } = family.predict(fit.params, series.subarray(0, 250), series.subarray(250));
  const sigma = fit.params[2]!;
  for (let j = 0; j < predicted.length; j++) {
    assert.ok(Math.abs(upper[j]! - predicted[j]! - 2 * sigma) < 1e-12 && Math.abs(predicted[j]! - lower[j]! - 2 * sigma) < 1e-12);
  }
});
