// Differential tests of the distribution kernels against the Python reference stack run by Debian's
// python3: ks against scipy.stats.ks_2samp (method='auto'), psi against the same construction in numpy
// (np.quantile edges, np.searchsorted bins), psi's critical value against scipy.stats.chi2.ppf and the lag-1
// autocorrelation against numpy. One Python call per file; the corpus is seeded and every case
// names its seed, so a failure replays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ksTwoSample, lag1Autocorrelation, populationStabilityIndex, psiCriticalValue } from '../src/drift/index.js';
import { EMPTY_BIN_PROPORTION } from '../src/drift/psi.js';
import { TestRng } from './families-series.js';
import { PYTHON, runPython } from './families-python.js';
import { spawnSync } from 'node:child_process';

interface SampleCase {
  readonly seed: number;
  readonly kind: string;
  readonly a: number[];
  readonly b: number[];
}

/** Sizes and shapes the test must cover: tiny and unequal samples, equal sizes, ties, shifts, past scipy's exact limit. */
function corpus(): SampleCase[] {
  const cases: SampleCase[] = [];
  const draw = (rng: TestRng, n: number, shift: number, scale: number, round: boolean): number[] =>
    Array.from({ length: n }, () => {
      const v = shift + scale * rng.normal();
      return round ? Math.round(v) : v;
    });
  const add = (seed: number, kind: string, n1: number, n2: number, shift: number, round = false, scale = 1): void => {
    const rng = new TestRng(seed);
    cases.push({ seed, kind, a: draw(rng, n1, 0, round ? 3 : 1, round), b: draw(rng, n2, shift, (round ? 3 : 1) * scale, round) });
  };
  let seed = 1000;
  for (let n1 = 1; n1 <= 8; n1++) for (let n2 = 1; n2 <= 8; n2++) add(seed++, 'tiny', n1, n2, (seed % 3) * 0.8);
  for (let i = 0; i < 60; i++) {
    const rng = new TestRng(seed);
    const n1 = 10 + rng.int(700);
    const n2 = i % 5 === 0 ? n1 : 5 + rng.int(200);
    add(seed++, 'medium', n1, n2, [0, 0.3, 0.8, 2][i % 4]!, false, i % 7 === 0 ? 2 : 1);
  }
  for (let i = 0; i < 30; i++) {
    const rng = new TestRng(seed);
    add(seed++, 'ties', 5 + rng.int(800), 3 + rng.int(120), [0, 0.5, 2][i % 3]!, true);
  }
  for (const [n1, n2] of [[730, 730], [365, 365], [1000, 1000], [500, 250], [9000, 90]]) add(seed++, 'equal-or-multiple', n1!, n2!, 0.2);
  for (let i = 0; i < 12; i++) {
    const rng = new TestRng(seed);
    add(seed++, 'asymptotic', 10_001 + rng.int(8000), [30, 60, 90, 150, 400, 900][i % 6]!, [0, 0.15, 0.5][i % 3]!);
  }
  // Both samples large: the effective n passes 1013, where scipy's one-sided tail turns asymptotic.
  for (const [n1, n2, shift] of [[12_000, 4000, 0], [12_000, 4000, 0.05], [20_000, 11_000, 0.04]]) add(seed++, 'both-large', n1!, n2!, shift!);
  // Interleaved samples of unequal sizes: D is small, so the exact path's band is narrow and its length
  // changes from column to column, the step where cells that fall out of the band must read as "left".
  for (let n1 = 3; n1 <= 41; n1 += 2) {
    for (const n2 of [2, Math.ceil(n1 / 3), n1 - 1]) {
      const a = Array.from({ length: n1 }, (_, i) => (i + 0.5) / n1);
      const b = Array.from({ length: n2 }, (_, j) => (j + 0.25) / n2);
      cases.push({ seed: seed++, kind: 'interleaved', a, b });
    }
  }
  const constant = Array.from({ length: 50 }, () => 4);
  cases.push({ seed: seed++, kind: 'identical', a: constant, b: constant.slice(0, 20) });
  return cases;
}

const KS_2SAMP = `
import json, sys
import numpy as np
from scipy import stats
cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    r = stats.ks_2samp(np.array(c['a'], dtype=float), np.array(c['b'], dtype=float))
    out.append({'statistic': float(r.statistic), 'pvalue': float(r.pvalue)})
print(json.dumps(out))
`;

const PSI = `
import json, sys
import numpy as np
cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    ref = np.array(c['a'], dtype=float); cur = np.array(c['b'], dtype=float)
    edges = np.unique(np.quantile(ref, np.arange(1, c['bins']) / c['bins']))
    e = np.bincount(np.searchsorted(edges, ref, side='left'), minlength=len(edges) + 1) / len(ref)
    a = np.bincount(np.searchsorted(edges, cur, side='left'), minlength=len(edges) + 1) / len(cur)
    e = np.where(e == 0, c['eps'], e); a = np.where(a == 0, c['eps'], a)
    out.append(float(np.sum((a - e) * np.log(a / e))))
print(json.dumps(out))
`;

function scipyMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import scipy.stats, numpy'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `scipy is not importable by ${PYTHON} (apt-get install -y python3-scipy)`;
}
const missing = scipyMissing();

/** Relative error with a floor, so p-values near 0 are judged absolutely below 1e-300. */
function relativeError(actual: number, expected: number): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
}

// Exact p-values are the same recursion in the same order as scipy's, so they agree to rounding; the
// asymptotic ones go through the Kolmogorov distribution, where this uses the Durbin matrix in place of
// Pomeranz's recursion, hence the looser bound there.
const EXACT_P_TOLERANCE = 1e-12;
const ASYMPTOTIC_P_TOLERANCE = 1e-9;

test('ks D equals scipy.stats.ks_2samp exactly and its p-value within tolerance', { skip: missing }, () => {
  const cases = corpus();
  const references = runPython<{ statistic: number; pvalue: number }[]>(KS_2SAMP, cases);
  const worst = { exact: 0, asymptotic: 0 };
  for (const [i, c] of cases.entries()) {
    const reference = references[i]!;
    const ours = ksTwoSample(Float64Array.from(c.a), Float64Array.from(c.b));
    const context = `seed ${c.seed} (${c.kind}, n1=${c.a.length}, n2=${c.b.length}): ours ${JSON.stringify(ours)}, scipy ${JSON.stringify(reference)}`;
    assert.equal(ours.statistic, reference.statistic, `D differs, ${context}`);
    const error = relativeError(ours.pValue, reference.pvalue);
    const tolerance = ours.mode === 'exact' ? EXACT_P_TOLERANCE : ASYMPTOTIC_P_TOLERANCE;
    assert.ok(error <= tolerance, `p-value relative error ${error} > ${tolerance}, ${context}`);
    worst[ours.mode] = Math.max(worst[ours.mode], error);
  }
  console.log(`ks vs scipy over ${cases.length} cases: worst relative p-value error exact ${worst.exact.toExponential(2)}, asymptotic ${worst.asymptotic.toExponential(2)}`);
});

test('psi equals the numpy construction (reference quantile bins, empty bins at 0.0001)', { skip: missing }, () => {
  const cases = corpus().filter((c) => c.a.length >= 2).map((c, i) => ({ ...c, bins: [10, 10, 5, 20][i % 4]!, eps: EMPTY_BIN_PROPORTION }));
  const references = runPython<number[]>(PSI, cases);
  for (const [i, c] of cases.entries()) {
    const ours = populationStabilityIndex(Float64Array.from(c.a), Float64Array.from(c.b), { bins: c.bins });
    const error = relativeError(ours, references[i]!);
    assert.ok(error <= 1e-12, `psi ${ours} vs numpy ${references[i]} (seed ${c.seed}, ${c.kind}, bins ${c.bins})`);
  }
});

const CHI2_CRITICAL = `
import json, sys
from scipy.stats import chi2
print(json.dumps([(1 / c['n'] + 1 / c['m']) * float(chi2.ppf(1 - c['alpha'], c['bins'] - 1)) for c in json.load(open(sys.argv[1]))]))
`;

test('psi critical value equals (1/n + 1/m) scipy.stats.chi2.ppf(1 - alpha, bins - 1)', { skip: missing }, () => {
  const cases: { bins: number; n: number; m: number; alpha: number }[] = [];
  for (const bins of [2, 3, 4, 5, 6, 8, 10, 11, 20, 31, 60, 100, 250]) {
    for (const alpha of [0.5, 0.1, 0.05, 0.01, 1e-3, 1e-5, 0.05 / 250_000]) cases.push({ bins, n: 30 + bins, m: 730 - bins, alpha });
  }
  // Effective sizes are not integers.
  cases.push({ bins: 10, n: 25.7, m: 204.3, alpha: 0.01 }, { bins: 10, n: 1, m: 1.5, alpha: 0.01 });
  const scipy = runPython<number[]>(CHI2_CRITICAL, cases);
  let worst = 0;
  for (const [i, c] of cases.entries()) {
    const ours = psiCriticalValue({ bins: c.bins, recentSize: c.n, referenceSize: c.m }, c.alpha);
    const error = relativeError(ours, scipy[i]!);
    assert.ok(error <= 1e-13, `critical value ${ours} vs scipy ${scipy[i]} (${JSON.stringify(c)})`);
    worst = Math.max(worst, error);
  }
  console.log(`psi critical value vs scipy over ${cases.length} cases: worst relative error ${worst.toExponential(2)}`);
  assert.equal(psiCriticalValue({ bins: 10, recentSize: 90, referenceSize: 730 }, 1), 0, 'alpha 1 turns the test off');
});

const LAG1 = `
import json, sys
import numpy as np
out = []
for x in json.load(open(sys.argv[1])):
    c = np.array(x, dtype=float) - np.mean(x)
    out.append(float(np.dot(c[1:], c[:-1]) / np.dot(c, c)))
print(json.dumps(out))
`;

test('lag-1 autocorrelation equals numpy (lag-1 covariance over variance)', { skip: missing }, () => {
  const samples: number[][] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const rng = new TestRng(seed);
    const phi = -0.9 + (1.8 * (seed - 1)) / 19;
    let ar = 0;
    samples.push(Array.from({ length: 2 + rng.int(900) }, () => (ar = phi * ar + rng.normal()) + 100));
  }
  const numpy = runPython<number[]>(LAG1, samples);
  for (const [i, x] of samples.entries()) {
    const ours = lag1Autocorrelation(Float64Array.from(x));
    assert.ok(Math.abs(ours - numpy[i]!) <= 1e-12, `lag-1 autocorrelation ${ours} vs numpy ${numpy[i]} (seed ${i + 1}, n=${x.length})`);
  }
  assert.equal(lag1Autocorrelation(new Float64Array(30).fill(4)), 0, 'a constant sample has no autocorrelation to speak of');
});
