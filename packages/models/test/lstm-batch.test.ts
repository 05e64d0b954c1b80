// lstm's batching and its contract: models trained side by side equal models trained alone (they are
// independent), the same seed gives the same models, the TypeScript forward pass equals onnxruntime's, the
// synchronous fit equals the batched one, bad series are typed failure rows, and the family round-trips
// through its spec. Also the batched path every family shares (fitBatch, evaluateManyBatched).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ar, evaluateMany, evaluateManyBatched, familySpec, fitMany, isFamilyError, lstm, resolveFamily, validateFamily } from '../src/index.js';
import { forecastWindows } from '../src/families/lstm/forecast-windows.js';
import { sessionSlots } from '../src/families/lstm/fit-batch.js';
import { allocateWeights, lstmLayout, packedToGraph } from '../src/families/lstm/layout.js';
import { TestRng } from './families-series.js';

const SEED = 10;
// Small enough to train in a second or two; batch 16 exceeds the windows of the 20-value series below, so
// its steps have padding rows.
const family = lstm({ window: 8, hidden: 6, steps: 60, batch: 16 });

function wave(rng: TestRng, length: number): Float64Array {
  const period = rng.between(6, 20);
  return Float64Array.from({ length }, (_, t) => 3 + Math.sin((2 * Math.PI * t) / period) + 0.2 * rng.normal());
}

function maxRelativeDifference(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1e-3, Math.abs(a[i]!)));
  return worst;
}

test('lstm: models trained side by side equal the same models trained alone, bad rows included', async (t) => {
  const rng = new TestRng(SEED);
  const lengths = [20, 90, 140, 60, 200];
  const series = lengths.map((length) => wave(rng, length));
  const withNaN = wave(rng, 80);
  withNaN[33] = NaN;
  const together = await family.fitBatch([series[0]!, series[1]!, withNaN, series[2]!, series[3]!, series[4]!]);
  assert.deepEqual(together.failures.map(({ index, code }) => ({ index, code })), [{ index: 2, code: 'NON_FINITE' }]);
  assert.deepEqual(together.training.groups, [8], 'five models in a session of eight: three padding slots');
  const k = family.paramCount();
  const row = (i: number): Float64Array => together.params.subarray(i * k, (i + 1) * k);
  const rows = [0, 1, 3, 4, 5];
  let worst = 0;
  for (const [j, values] of series.entries()) {
    const alone = await family.fitBatch([values]);
    assert.deepEqual(alone.training.groups, [1]);
    // Not bit for bit: onnxruntime's kernels may sum in another order for another number of models.
    const difference = maxRelativeDifference(alone.params, row(rows[j]!));
    assert.ok(difference < 1e-3, `seed ${SEED}, series ${j} (${values.length} values): batched and alone differ by ${difference}`);
    worst = Math.max(worst, difference);
  }
  t.diagnostic(`largest relative difference between a model trained in the batch and alone: ${worst.toExponential(2)}`);
  assert.deepEqual([1, 5, 32, 33, 64, 100].map((count) => sessionSlots(count, 64)), [1, 8, 32, 64, 64, 64]);
  const again = await family.fitBatch([series[0]!, series[1]!, withNaN, series[2]!, series[3]!, series[4]!]);
  assert.deepEqual(again.params, together.params, 'the same seed gives the same models');
  const reseeded = await lstm({ ...family.params, seed: 1 }).fitBatch([series[1]!]);
  assert.ok(maxRelativeDifference(reseeded.params, row(1)) > 1e-2, 'another seed gives another model');
});

test('lstm: the TypeScript forward pass equals onnxruntime\'s to 1e-5', async () => {
  const rng = new TestRng(SEED + 1);
  const window = 24;
  const hidden = 16;
  const forecaster = lstm({ window, hidden });
  const layout = lstmLayout(hidden);
  const models = 3;
  const values = Array.from({ length: models }, () => Float64Array.from({ length: 60 }, () => 10 + 4 * rng.normal()));
  const weights = allocateWeights(models, hidden);
  const packed = Array.from({ length: models }, (_, m) => {
    const model = Float64Array.from({ length: layout.count }, () => 0.4 * rng.normal());
    model[layout.mean] = 10;
    model[layout.std] = 4;
    model[layout.sigma] = 1;
    // The graph computes in float32: round the weights once so both sides use the same numbers.
    for (let i = layout.wIh; i < layout.sigma; i++) model[i] = Math.fround(model[i]!);
    packedToGraph(layout, model, weights, m);
    return model;
  });
  const z = values.map((series) => series.map((v) => (v - 10) / 4));
  const reference = await forecastWindows(window, hidden, weights, z);
  for (let m = 0; m < models; m++) {
    const series = values[m]!;
    const predicted = forecaster.predict(packed[m]!, series.subarray(0, window), series.subarray(window)).predicted;
    assert.equal(reference[m]!.length, predicted.length);
    for (let j = 0; j < predicted.length; j++) {
      const difference = Math.abs((predicted[j]! - 10) / 4 - reference[m]![j]!);
      assert.ok(difference < 1e-5, `seed ${SEED + 1}, model ${m}, window ${j}: TypeScript ${(predicted[j]! - 10) / 4}, onnxruntime ${reference[m]![j]}`);
    }
  }
});

test('lstm: fit (one series, synchronous) equals fitBatch, and throws the typed errors of bad series', async () => {
  const rng = new TestRng(SEED + 2);
  const values = wave(rng, 120);
  const batched = await family.fitBatch([values]);
  const single = family.fit(values);
  assert.deepEqual(single.params, batched.params);
  assert.equal(single.trainPoints, 120);
  assert.equal(single.trainRmse, batched.trainRmse[0]);
  assert.equal(single.trainRmse, single.params[lstmLayout(6).sigma]);
  const expectCode = (run: () => unknown, code: string): void => {
    assert.throws(run, (error: unknown) => isFamilyError(error) && error.code === code, `expected ${code}`);
  };
  expectCode(() => family.fit(values.subarray(0, family.minTrainPoints() - 1)), 'TOO_SHORT');
  const gap = values.slice();
  gap[50] = Infinity;
  expectCode(() => family.fit(gap), 'NON_FINITE');
  expectCode(() => family.fit(new Float64Array(100).fill(7)), 'SINGULAR');
  expectCode(() => family.predict(single.params, values.subarray(0, 7), values), 'TOO_SHORT');
  expectCode(() => family.predict(single.params.subarray(1), values, values), 'INVALID_PARAMS');
  expectCode(() => lstm({ window: 0, hidden: 4 }), 'INVALID_PARAMS');
  expectCode(() => lstm({ window: 4, hidden: 4, learningRate: -1 }), 'INVALID_PARAMS');
});

test('lstm: evaluateManyBatched scores the batched fits; the layout names and the spec round trip', async () => {
  const rng = new TestRng(SEED + 3);
  const slices = [wave(rng, 150), wave(rng, 15), wave(rng, 150)].map((values) => ({ train: values.subarray(0, 100), test: values.subarray(100) }));
  const batch = await evaluateManyBatched(family, slices);
  assert.deepEqual(batch.failures.map(({ index, code }) => ({ index, code })), [{ index: 1, code: 'TOO_SHORT' }]);
  assert.deepEqual([...batch.ok], [1, 0, 1]);
  assert.deepEqual([...batch.testPoints], [50, 0, 50]);
  for (const i of [0, 2]) assert.ok(batch.testRmse[i]! < 0.5, `seed ${SEED + 3}: test RMSE ${batch.testRmse[i]} of a wave with noise 0.2`);

  const names = family.paramNames();
  const layout = lstmLayout(6);
  assert.equal(names.length, family.paramCount());
  assert.equal(family.paramCount(), 4 * 6 * 6 + 9 * 6 + 4);
  assert.deepEqual([names[layout.mean], names[layout.std], names[layout.wIh], names[layout.wHh + 6 + 2], names[layout.bias + 6], names[layout.wOut], names[layout.bOut], names[layout.sigma]],
    ['mean', 'std', 'w_ih.i0', 'w_hh.i1.2', 'b.f0', 'w_out.0', 'b_out', 'sigma']);

  const spec = familySpec(family);
  assert.deepEqual(spec, { family: 'lstm', params: { ...family.params } });
  const rebuilt = await resolveFamily(JSON.parse(JSON.stringify(spec)));
  assert.equal(rebuilt.key(), family.key());
  assert.equal(family.key(), 'lstm(window=8,hidden=6,k=3,steps=60,batch=16,rate=0.01,seed=0)');
});

test('evaluateManyBatched is evaluateMany for a family without fitBatch; a fitBatch of the wrong shape is refused', async () => {
  const rng = new TestRng(SEED + 4);
  const slices = [wave(rng, 120), wave(rng, 90)].map((values) => ({ train: values.subarray(0, 80), test: values.subarray(80) }));
  const plain = ar({ p: 2 });
  const batched = await evaluateManyBatched(plain, slices);
  const direct = evaluateMany(plain, slices);
  assert.deepEqual([batched.params, batched.testRmse, batched.anomalies], [direct.params, direct.testRmse, direct.anomalies]);

  const delegate = (fitBatch: unknown): object => ({
    name: 'ar2', params: plain.params, key: () => 'ar2', paramCount: () => plain.paramCount(), paramNames: () => plain.paramNames(),
    minTrainPoints: () => plain.minTrainPoints(), historyPoints: () => plain.historyPoints(),
    fit: (train: Float64Array) => plain.fit(train), predict: plain.predict.bind(plain), fitBatch,
  });
  const oneRowShort = validateFamily(delegate(async (series: readonly Float64Array[]) => fitMany(plain, series.slice(1))), 'one row short');
  await assert.rejects(evaluateManyBatched(oneRowShort, slices), (error: unknown) => isFamilyError(error, 'INVALID_PARAMS') && /returned 1 rows/.test(error.message));
  assert.throws(() => validateFamily(delegate(3), 'bad fitBatch'), (error: unknown) => isFamilyError(error, 'INVALID_FAMILY') && /fitBatch \(optional\) is not a function/.test(error.message));
});
