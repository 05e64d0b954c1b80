// lstm on a generated set: 48 noisy sines (periods, phases, levels and amplitudes drawn per series) and 16
// AR(2) processes, trained together in one session. The batch's loss must fall, the sines' one-step forecasts
// must beat the naive last-value forecast on the test range, and the band must flag few normal points.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lstm, score } from '../src/index.js';
import { simulateArma, TestRng } from './families-series.js';

const SEED = 15;
const LENGTH = 240;
const TEST = 48;

function noisySine(rng: TestRng): Float64Array {
  const period = rng.between(10, 40);
  const phase = rng.between(0, 2 * Math.PI);
  const amplitude = rng.between(1, 5);
  const level = rng.between(-20, 20);
  return Float64Array.from({ length: LENGTH }, (_, t) => level + amplitude * (Math.sin((2 * Math.PI * t) / period + phase) + 0.1 * rng.normal()));
}

test('lstm: the loss falls and the forecasts beat the last value on noisy sines (64 models in one session)', async (t) => {
  const rng = new TestRng(SEED);
  const sines = Array.from({ length: 48 }, () => noisySine(rng));
  const processes = Array.from({ length: 16 }, () => simulateArma(rng, { phi: [1.2, -0.5], n: LENGTH, mean: rng.between(-5, 5) }));
  const series = [...sines, ...processes];
  const family = lstm({ window: 12, hidden: 8, steps: 200 });
  const fitted = await family.fitBatch(series.map((values) => values.subarray(0, LENGTH - TEST)));
  const why = `seed ${SEED}`;
  assert.deepEqual(fitted.failures, [], why);
  assert.deepEqual(fitted.training.groups, [64], `${why}: the 64 models train side by side in one session`);

  const curve = fitted.training.lossCurve;
  const mean = (from: number, to: number): number => curve.subarray(from, to).reduce((a, b) => a + b, 0) / (to - from);
  const start = mean(0, 10);
  const end = mean(curve.length - 10, curve.length);
  assert.ok(start > 0.4, `${why}: z-scored series start near unit loss, got ${start}`);
  assert.ok(end < 0.25 * start, `${why}: the loss fell from ${start} only to ${end}`);

  const k = family.paramCount();
  let wins = 0;
  let ratios = 0;
  let flagged = 0;
  sines.forEach((values, i) => {
    const train = values.subarray(0, LENGTH - TEST);
    const testRange = values.subarray(LENGTH - TEST);
    const scored = score(family, fitted.params.subarray(i * k, (i + 1) * k), train, testRange);
    let model = 0;
    let naive = 0;
    for (let j = 0; j < TEST; j++) {
      model += (testRange[j]! - scored.predicted[j]!) ** 2;
      naive += (testRange[j]! - (j === 0 ? train[train.length - 1]! : testRange[j - 1]!)) ** 2;
    }
    if (model < naive) wins++;
    ratios += Math.sqrt(model / naive) / sines.length;
    flagged += scored.anomalies.reduce((a, b) => a + b, 0);
  });
  t.diagnostic(`loss ${start.toFixed(3)} -> ${end.toFixed(3)}; beat the last value on ${wins}/48 sines, RMSE ratio ${ratios.toFixed(3)}; ${flagged} flagged; ${fitted.training.calls} calls, ${fitted.training.seconds.toFixed(1)} s`);
  assert.ok(wins >= 46, `${why}: the LSTM beat the last value on only ${wins} of 48 sines`);
  assert.ok(ratios < 0.7, `${why}: mean RMSE ratio to the naive forecast is ${ratios}`);
  // Gaussian noise beyond 3 sigma is 0.27 %; allow for sigma being in-sample.
  assert.ok(flagged / (48 * TEST) < 0.03, `${why}: ${flagged} of ${48 * TEST} clean test points flagged`);
});
