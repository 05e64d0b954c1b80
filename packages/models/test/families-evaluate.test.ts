// evaluate / evaluateMany / fitMany: metrics against a hand computation from score(), bad slices isolated as
// failure rows, columns laid out row-major, and time stamps passed through to time-aware families.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ar, batchRecord, evaluate, evaluateMany, fitMany, isFamilyError, score, seasonal, type Slice } from '../src/index.js';
import { simulateArma, TestRng } from './families-series.js';

function slices(seed: number, count: number): Slice[] {
  const rng = new TestRng(seed);
  return Array.from({ length: count }, (_, i) => {
    const series = simulateArma(rng, { phi: [0.6, -0.25], n: 200 + 17 * i, mean: 50 * rng.normal() });
    if (i % 3 === 0) series[150] = series[150]! + 40; // an anomaly in some test ranges
    return { train: series.subarray(0, 140), test: series.subarray(140) };
  });
}

test('evaluate returns the metrics of its forecasts over the test range', () => {
  const family = ar({ p: 2 });
  for (const slice of slices(1, 6)) {
    const { family: name, familyKey, params, metrics: model } = evaluate(family, slice);
    const scored = score(family, params, slice.train, slice.test);
    let squares = 0;
    let absolutes = 0;
    for (let j = 0; j < slice.test.length; j++) {
      squares += (slice.test[j]! - scored.predicted[j]!) ** 2;
      absolutes += Math.abs(slice.test[j]! - scored.predicted[j]!);
    }
    const anomalies = scored.anomalies.reduce((a, b) => a + b, 0);
    assert.equal(name, 'ar');
    assert.equal(familyKey, 'ar(p=2,d=0,k=3)');
    assert.equal(model.trainPoints, slice.train.length);
    assert.equal(model.testPoints, slice.test.length);
    assert.ok(Math.abs(model.testRmse - Math.sqrt(squares / slice.test.length)) < 1e-12 * model.testRmse);
    assert.ok(Math.abs(model.testMae - absolutes / slice.test.length) < 1e-12 * model.testMae);
    assert.equal(model.anomalies, anomalies);
    assert.equal(model.anomalyRate, anomalies / slice.test.length);
    assert.ok(model.trainMs >= 0 && Number.isFinite(model.trainMs));
    assert.deepEqual(params, family.fit(slice.train).params);
  }
  const spiked = evaluate(family, slices(1, 1)[0]!);
  assert.ok(spiked.metrics.anomalies >= 1, 'the injected spike is flagged');
});

test('evaluateMany isolates bad slices as failure rows and matches evaluate on the rest', () => {
  const family = ar({ p: 2 });
  const good = slices(2, 5);
  const constant = { train: new Float64Array(100).fill(7), test: new Float64Array(10).fill(7) };
  const withNaN = { train: Float64Array.from(good[0]!.train).fill(NaN, 30, 31), test: good[0]!.test };
  const tooShort = { train: good[1]!.train.subarray(0, 5), test: good[1]!.test };
  const badTest = { train: good[2]!.train, test: Float64Array.of(1, Infinity) };
  const empty = { train: good[3]!.train, test: new Float64Array(0) };
  const all = [good[0]!, constant, good[1]!, withNaN, good[2]!, tooShort, good[3]!, badTest, good[4]!, empty];
  const batch = evaluateMany(family, all);
  assert.equal(batch.count, all.length);
  assert.equal(batch.paramCount, 4);
  assert.deepEqual(batch.failures.map((f) => [f.index, f.code]), [[1, 'SINGULAR'], [3, 'NON_FINITE'], [5, 'TOO_SHORT'], [7, 'NON_FINITE']]);
  assert.match(batch.failures[1]!.message, /training value 30 is NaN/);
  assert.match(batch.failures[3]!.message, /test value 1 is Infinity/);
  for (const { index } of batch.failures) {
    assert.equal(batch.ok[index], 0);
    assert.ok(batch.params.subarray(index * 4, index * 4 + 4).every(Number.isNaN), `row ${index} params are NaN`);
    assert.ok(Number.isNaN(batch.testRmse[index]!) && Number.isNaN(batch.trainRmse[index]!) && batch.anomalies[index] === 0);
  }
  for (const [i, slice] of all.entries()) {
    if (batch.failures.some((f) => f.index === i)) continue;
    const single = evaluate(family, slice);
    const row = batchRecord(batch, i);
    assert.deepEqual(row.params, single.params, `row ${i}`);
    assert.deepEqual({ ...row.metrics, trainMs: 0 }, { ...single.metrics, trainMs: 0 }, `row ${i}`);
    assert.equal(row.familyKey, single.familyKey);
  }
  // An empty test range still trains; its test metrics are undefined (NaN).
  assert.equal(batch.ok[9], 1);
  assert.ok(Number.isNaN(batch.testRmse[9]!) && Number.isNaN(batch.anomalyRate[9]!) && batch.testPoints[9] === 0);
  assert.throws(() => evaluate(family, constant), (error: unknown) => isFamilyError(error, 'SINGULAR'));
});

test('fitMany lays out one row of parameters per series, accepting arrays or { values, times }', () => {
  const family = ar({ p: 3, d: 1 });
  const rng = new TestRng(3);
  const series = Array.from({ length: 7 }, () => simulateArma(rng, { phi: [0.3, 0.2, 0.1], n: 120 }));
  const batch = fitMany(family, series.map((values, i) => (i % 2 === 0 ? values : { values })));
  assert.equal(batch.failures.length, 0);
  assert.equal(batch.params.length, 7 * 5);
  series.forEach((values, i) => {
    const fit = family.fit(values);
    assert.deepEqual(batch.params.subarray(i * 5, (i + 1) * 5), fit.params);
    assert.equal(batch.trainRmse[i], fit.trainRmse);
    assert.equal(batch.trainMae[i], fit.trainMae);
    assert.equal(batch.trainPoints[i], 120);
  });
});

test('evaluateMany passes time stamps to time-aware families', () => {
  const family = seasonal({ period: 24 });
  const hours = (from: number, to: number): Float64Array => Float64Array.from({ length: to - from }, (_, i) => (from + i) * 3600);
  const values = (times: Float64Array): Float64Array => times.map((t) => Math.sin((2 * Math.PI * t) / 86400) + ((t / 3600) % 7) * 0.01);
  const trainTimes = hours(0, 24 * 10);
  // The test range starts 5 hours after training ends: only time stamps can place its phases.
  const testTimes = hours(24 * 10 + 5, 24 * 12);
  const batch = evaluateMany(family, [{ train: values(trainTimes), trainTimes, test: values(testTimes), testTimes }]);
  assert.equal(batch.failures.length, 0);
  assert.ok(batch.testMae[0]! < 0.05, `test MAE ${batch.testMae[0]}`);
  const untimed = evaluateMany(family, [{ train: values(trainTimes), trainTimes, test: values(testTimes) }]);
  assert.equal(untimed.failures[0]?.code, 'BAD_TIMES');
});
