// `seasonal`: medians and MAD bands by hand, spike detection on an hourly series with a daily cycle, phases
// from time stamps across gaps, and its errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, isFamilyError, score, seasonal } from '../src/index.js';
import { TestRng } from './families-series.js';

const HOUR = 3600;
const START = 1_700_000_000;

test('seasonal medians and MAD bands, by hand', () => {
  const family = seasonal({ period: 2 });
  const fit = family.fit(Float64Array.of(1, 10, 3, 12, 2, 11));
  assert.deepEqual(Array.from(fit.params), [0, 0, 2, 11, 1.4826, 1.4826]);
  const scored = score(family, fit.params, new Float64Array(0), Float64Array.of(2, 20, 6, 11));
  assert.deepEqual(Array.from(scored.predicted), [2, 11, 2, 11]);
  assert.ok(Math.abs(scored.upper[0]! - (2 + 3 * 1.4826)) < 1e-12);
  assert.deepEqual(Array.from(scored.anomalies), [0, 1, 0, 0]);
  // The next value after an odd-length training series has phase 1.
  assert.equal(family.fit(Float64Array.of(1, 10, 3, 12, 2)).params[0], 1);
});

test('pooled and per-phase MAD scales; a phase with zero MAD takes the pooled one', () => {
  const values = Float64Array.of(5, 1, 5, 3, 5, 2, 5, 4);
  // Phase 0: all 5 (MAD 0); phase 1: median 2.5, MAD 1. Pooled |residuals| 0,0,0,0,.5,.5,1.5,1.5: median 0.25.
  assert.deepEqual(Array.from(seasonal({ period: 2 }).fit(values).params), [0, 0, 5, 2.5, 1.4826 * 0.25, 1.4826 * 0.25]);
  assert.deepEqual(Array.from(seasonal({ period: 2, scale: 'phase' }).fit(values).params), [0, 0, 5, 2.5, 1.4826 * 0.25, 1.4826]);
  // Per-phase scales follow a noise level that changes over the cycle.
  const rng = new TestRng(8);
  const uneven = Float64Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? 0.1 : 2) * rng.normal());
  const fit = seasonal({ period: 2, scale: 'phase' }).fit(uneven);
  assert.ok(Math.abs(fit.params[4]! - 0.1) < 0.02 && Math.abs(fit.params[5]! - 2) < 0.3, `scales ${fit.params.subarray(4)}`);
  assert.equal(seasonal({ period: 2, scale: 'phase' }).key(), 'seasonal(period=2,k=3,scale=phase)');
});

function hourlySeries(rng: TestRng, days: number): Float64Array {
  return Float64Array.from({ length: days * 24 }, (_, i) => 10 + 5 * Math.sin((2 * Math.PI * i) / 24) + 0.5 * rng.normal());
}

test('seasonal detects spikes injected into a daily cycle, and training spikes do not move it', () => {
  let falseAlarmCount = 0;
  let quietPoints = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const rng = new TestRng(seed);
    const train = hourlySeries(rng, 30);
    for (let s = 0; s < 15; s++) train[rng.int(train.length)] = 60; // robust: medians and MADs ignore these
    // The test week continues the cycle: 30 days of 24 hours leave the phase at 0.
    const testValues = hourlySeries(rng, 7);
    const spikes = new Set<number>();
    while (spikes.size < 6) spikes.add(rng.int(testValues.length));
    for (const j of spikes) testValues[j] = testValues[j]! + (j % 2 === 0 ? 8 : -8);
    const family = seasonal({ period: 24 });
    const { params, metrics } = evaluate(family, { train, test: testValues });
    const scored = score(family, params, train, testValues);
    const flagged = [...scored.anomalies.keys()].filter((j) => scored.anomalies[j] === 1);
    for (const j of spikes) assert.ok(scored.anomalies[j] === 1, `seed ${seed}: spike at ${j} (${testValues[j]}) inside [${scored.lower[j]}, ${scored.upper[j]}]`);
    // In-sample MADs about medians of 30 values run a little small, so k = 3 flags somewhat more than the
    // 0.27 % of normal noise beyond 3 sigma: bound it per week and over all seeds.
    const falseAlarms = flagged.filter((j) => !spikes.has(j));
    assert.ok(falseAlarms.length <= 4, `seed ${seed}: false alarms at ${falseAlarms}`);
    falseAlarmCount += falseAlarms.length;
    quietPoints += testValues.length - spikes.size;
    assert.equal(metrics.anomalies, flagged.length);
    assert.equal(metrics.anomalyRate, flagged.length / testValues.length);
    for (let f = 0; f < 24; f++) {
      const truth = 10 + 5 * Math.sin((2 * Math.PI * f) / 24);
      assert.ok(Math.abs(params[2 + f]! - truth) < 0.5, `seed ${seed}: phase ${f} median ${params[2 + f]} vs ${truth}`);
      assert.ok(Math.abs(params[2 + 24 + f]! - 0.5) < 0.1, `seed ${seed}: phase ${f} scale ${params[26 + f]}`);
    }
  }
  assert.ok(falseAlarmCount / quietPoints < 0.015, `false alarm rate ${falseAlarmCount / quietPoints}`);
});

test('seasonal phases come from time stamps when given, so gaps do not shift them', () => {
  const rng = new TestRng(42);
  const full = hourlySeries(rng, 37);
  const kept = [...full.keys()].filter(() => rng.uniform() > 0.1); // drop about 10 % of the hours
  const trainIdx = kept.filter((i) => i < 30 * 24);
  const testIdx = kept.filter((i) => i >= 30 * 24);
  const pick = (idx: number[], from: Float64Array): Float64Array => Float64Array.from(idx, (i) => from[i]!);
  const times = (idx: number[]): Float64Array => Float64Array.from(idx, (i) => START + i * HOUR + (rng.uniform() - 0.5) * 60);
  const family = seasonal({ period: 24 });
  const trainTimes = times(trainIdx);
  const fit = family.fit(pick(trainIdx, full), trainTimes);
  assert.equal(fit.params[0], trainTimes[0]);
  assert.ok(Math.abs(fit.params[1]! - HOUR) < 60, `inferred interval ${fit.params[1]}`);
  const testTimes = times(testIdx);
  const predicted = family.predict(fit.params, new Float64Array(0), pick(testIdx, full), { testTimes }).predicted;
  testIdx.forEach((i, j) => {
    const truth = 10 + 5 * Math.sin((2 * Math.PI * i) / 24);
    assert.ok(Math.abs(predicted[j]! - truth) < 0.5, `test hour ${i}: ${predicted[j]} vs ${truth}`);
  });
  const withInterval = seasonal({ period: 24, interval: HOUR }).fit(pick(trainIdx, full), trainTimes);
  assert.equal(withInterval.params[1], HOUR);
});

test('seasonal reports what it cannot fit or score', () => {
  const check = (run: () => unknown, code: string, pattern: RegExp): void => {
    assert.throws(run, (error: unknown) => isFamilyError(error, code as never) && pattern.test(error.message));
  };
  const family = seasonal({ period: 24 });
  check(() => family.fit(new Float64Array(47)), 'TOO_SHORT', /47 values; seasonal\(period=24,k=3\) needs at least 48/);
  const values = new Float64Array(72).fill(1);
  const gapped = Float64Array.from({ length: 72 }, (_, i) => START + (i < 5 ? i : i + 24 * 3 + 1) * HOUR);
  const everyOther = Float64Array.from({ length: 72 }, (_, i) => START + 2 * i * HOUR);
  check(() => seasonal({ period: 24, interval: HOUR }).fit(values, everyOther), 'TOO_SHORT', /phase 1 of 24 has no training values/);
  const fit = family.fit(values, gapped);
  check(() => family.predict(fit.params, new Float64Array(0), new Float64Array(3)), 'BAD_TIMES', /needs the test times/);
  check(() => family.fit(values, gapped.subarray(1)), 'BAD_TIMES', /72 values but 71 time stamps/);
  const backwards = gapped.slice();
  backwards[9] = backwards[8]!;
  check(() => family.fit(values, backwards), 'BAD_TIMES', /stamp 9 .* follows/);
  const spoiled = values.slice();
  spoiled[3] = NaN;
  check(() => family.fit(spoiled), 'NON_FINITE', /value 3 is NaN/);
  check(() => seasonal({ period: 0 }), 'INVALID_PARAMS', /period must be an integer/);
});
