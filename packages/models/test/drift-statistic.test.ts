// driftStatistic's contract: defaults, decisions against the thresholds, and typed errors for bad input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bonferroni, DRIFT_DEFAULTS, driftStatistic, isDriftError, populationStabilityIndex } from '../src/drift/index.js';
import { EMPTY_BIN_PROPORTION } from '../src/drift/psi.js';

const ramp = (n: number, offset = 0): Float64Array => Float64Array.from({ length: n }, (_, i) => i + offset);

test('bonferroni divides alpha by the number of tests and rejects nonsense', () => {
  assert.equal(bonferroni(0.05, 1), 0.05);
  assert.equal(bonferroni(0.05, 250), 0.0002);
  for (const [alpha, tests] of [[0, 3], [1, 3], [0.05, 0], [0.05, 2.5]] as const) {
    assert.throws(() => bonferroni(alpha, tests), (e: unknown) => isDriftError(e, 'INVALID_OPTION'));
  }
});

test('psi is 0 for the same distribution and counts an empty bin with the 0.0001 floor', () => {
  assert.equal(populationStabilityIndex(ramp(100), ramp(100)), 0);
  // Every recent value above the reference: the top bin holds all of recent, the nine others none.
  const psi = populationStabilityIndex(ramp(100), ramp(10, 1000));
  const lower = 9 * (EMPTY_BIN_PROPORTION - 0.1) * Math.log(EMPTY_BIN_PROPORTION / 0.1);
  const top = (1 - 0.1) * Math.log(1 / 0.1);
  assert.ok(Math.abs(psi - (lower + top)) < 1e-12, `psi ${psi}`);
});

test('psi is drifted only above both the practical threshold and its chi-square critical value', () => {
  // Ten recent values all above the reference: PSI 8.3; under independence noise alone reaches
  // (1/10 + 1/100) chi2.ppf(0.99, 9) = 2.38.
  const psi = populationStabilityIndex(ramp(100), ramp(10, 1000));
  const independent = driftStatistic('psi', { reference: ramp(100), recent: ramp(10, 1000) }, { psiSerialCorrection: 'none' });
  const criticalValue = (1 / 10 + 1 / 100) * 21.665994333461924;
  assert.ok(Math.abs(independent.criticalValue! - criticalValue) < 1e-12, `critical value ${independent.criticalValue}`);
  assert.deepEqual(independent, { method: 'psi', statistic: psi, threshold: independent.criticalValue, criticalValue: independent.criticalValue, drifted: true });
  // A ramp is as persistent as a series gets (lag-1 autocorrelation 0.97): its 100 values are worth about
  // 1.5 independent ones, so ten recent values cannot show it changed.
  const persistent = driftStatistic('psi', { reference: ramp(100), recent: ramp(10, 1000) });
  assert.equal(persistent.drifted, false);
  assert.ok(persistent.criticalValue! > psi, `critical value ${persistent.criticalValue} under lag-1 correction`);
  // With alpha 1 the test is off and the decision is Evidently's: PSI >= 0.1.
  const evidently = driftStatistic('psi', { reference: ramp(100), recent: ramp(10, 1000) }, { psiAlpha: 1 });
  assert.deepEqual(evidently, { method: 'psi', statistic: psi, threshold: DRIFT_DEFAULTS.psiThreshold, criticalValue: 0, drifted: true });
  // Where samples are large the practical threshold decides: a small real change is significant but immaterial.
  const small = driftStatistic('psi', { reference: ramp(20_000), recent: ramp(20_000, 400) }, { psiSerialCorrection: 'none' });
  assert.ok(small.statistic > small.criticalValue! && small.statistic < DRIFT_DEFAULTS.psiThreshold, JSON.stringify(small));
  assert.equal(small.drifted, false);
  assert.equal(small.threshold, DRIFT_DEFAULTS.psiThreshold);
});

test('ks reports the uncorrected p-value and decides at ksAlpha', () => {
  const outcome = driftStatistic('ks', { reference: ramp(50), recent: ramp(20, 40) }, { ksAlpha: 0.01 });
  assert.equal(outcome.method, 'ks');
  assert.equal(outcome.threshold, 0.01);
  assert.equal(outcome.drifted, outcome.pValue! < 0.01);
  assert.ok(outcome.drifted);
});

test('page-hinkley warms up on reference residuals and reports where in recent it fired', () => {
  const referenceResiduals = new Float64Array(200).map((_, i) => (i % 2 === 0 ? 1 : -1));
  const residuals = new Float64Array(90).fill(4);
  const outcome = driftStatistic('page-hinkley', { reference: ramp(10), recent: ramp(90), residuals, residualScale: 2, referenceResiduals });
  assert.equal(outcome.drifted, true);
  // Standardized residuals of 2 against an in-control mean near 0 pass 50 after about 26 steps.
  assert.ok(outcome.changeIndex! > 20 && outcome.changeIndex! < 35, `changeIndex ${outcome.changeIndex}`);
  const cold = driftStatistic('page-hinkley', { reference: ramp(10), recent: ramp(90), residuals, residualScale: 2 });
  assert.equal(cold.drifted, false, 'without a warm-up a constant offset is the running mean and never alarms');
});

test('bad input fails with a typed error', () => {
  const reject = (code: string, run: () => unknown): void => {
    assert.throws(run, (e: unknown) => isDriftError(e) && e.code === code, code);
  };
  reject('EMPTY_SAMPLE', () => driftStatistic('ks', { reference: new Float64Array(0), recent: ramp(3) }));
  reject('NON_FINITE', () => driftStatistic('psi', { reference: ramp(3), recent: Float64Array.of(1, Number.NaN) }));
  reject('EMPTY_SAMPLE', () => driftStatistic('page-hinkley', { reference: ramp(3), recent: ramp(3), residualScale: 1 }));
  reject('INVALID_OPTION', () => driftStatistic('page-hinkley', { reference: ramp(3), recent: ramp(3), residuals: ramp(3), residualScale: 0 }));
  reject('INVALID_OPTION', () => driftStatistic('psi', { reference: ramp(30), recent: ramp(3) }, { psiBins: 1 }));
  reject('INVALID_OPTION', () => driftStatistic('psi', { reference: ramp(30), recent: ramp(3) }, { psiAlpha: 0 }));
  reject('INVALID_OPTION', () => driftStatistic('psi', { reference: ramp(30), recent: ramp(3) }, { psiSerialCorrection: 'bartlett' as never }));
  reject('UNKNOWN_METHOD', () => driftStatistic('wasserstein' as never, { reference: ramp(3), recent: ramp(3) }));
});
