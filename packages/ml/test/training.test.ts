import { test } from 'node:test';
import assert from 'node:assert/strict';
import { charCnn, lstm, mlp, Rng, Trainer, type Batch } from '../src/index.js';

// Short runs on synthetic tasks: the loss must fall clearly, and held-out batches must be predicted well.
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** Texts whose class decides which quarter of the alphabet half of their characters come from. */
function textBatch(rng: Rng, rows: number, length: number): Batch {
  const chars = new BigInt64Array(rows * length);
  const labels: number[] = [];
  for (let r = 0; r < rows; r++) {
    const label = rng.int(4);
    labels.push(label);
    const used = length - 48 + rng.int(48); // the rest stays 0: padding
    for (let i = 0; i < used; i++) chars[r * length + i] = BigInt(1 + (rng.uniform() < 0.5 ? 4 * label + rng.int(4) : rng.int(16)));
  }
  return { inputs: { chars }, labels };
}

test('a narrow CharCNN learns a synthetic 4-class text task', async (t) => {
  const length = 128;
  const spec = charCnn({ classes: ['q0', 'q1', 'q2', 'q3'], alphabet: 'abcdefghijklmnop', length, features: 32, hidden: 64, dropout: 0.1, init: 'he' });
  const trainer = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 3e-3, seed: 1 });
  const rng = new Rng(11);
  const losses: number[] = [];
  for (let i = 0; i < 60; i++) losses.push((await trainer.step(textBatch(rng, 16, length))).loss);
  const held = await trainer.evaluate(textBatch(rng, 128, length));
  t.diagnostic(`CharCNN loss every 5 steps: ${losses.filter((_, i) => i % 5 === 0).map((l) => l.toFixed(3)).join(' ')}; ` +
    `held-out loss ${held.loss.toFixed(3)}, accuracy ${String(held.accuracy)}`);
  assert.ok(mean(losses.slice(-10)) < 0.5 * mean(losses.slice(0, 5)), `loss did not fall: ${losses.join(', ')}`);
  assert.ok((held.accuracy ?? 0) >= 0.8, `held-out accuracy ${String(held.accuracy)}`);
  await trainer.dispose();
});

/** Windows of sine waves with random phase and frequency; the target is the next value. */
function sineBatch(rng: Rng, rows: number, window: number): Batch {
  const series = new Float32Array(rows * window);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const phase = rng.uniform() * 2 * Math.PI;
    const frequency = 0.3 + 0.3 * rng.uniform();
    for (let i = 0; i < window; i++) series[r * window + i] = Math.sin(phase + frequency * i);
    labels[r] = Math.sin(phase + frequency * window);
  }
  return { inputs: { series }, labels };
}

test('an LSTM unrolled over 8 steps learns to forecast sine waves', async (t) => {
  const spec = lstm({ window: 8, features: 1, hidden: 8, target: { kind: 'regression', size: 1 } });
  const trainer = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 2e-2, seed: 1 });
  const rng = new Rng(5);
  const losses: number[] = [];
  for (let i = 0; i < 60; i++) losses.push((await trainer.step(sineBatch(rng, 32, 8))).loss);
  const held = await trainer.evaluate(sineBatch(rng, 256, 8));
  t.diagnostic(`LSTM loss every 5 steps: ${losses.filter((_, i) => i % 5 === 0).map((l) => l.toFixed(4)).join(' ')}; held-out ${held.loss.toFixed(4)}`);
  assert.ok(mean(losses.slice(-10)) < 0.1 * mean(losses.slice(0, 5)), `loss did not fall: ${losses.join(', ')}`);
  assert.ok(held.loss < 0.02, `held-out mse ${held.loss}`);
  await trainer.dispose();
});

test('an MLP trained with SGD + momentum and a decaying schedule learns argmax, with gradient clipping', async (t) => {
  const spec = mlp({ inputs: 4, hidden: [16], target: { kind: 'classes', classes: 4 } });
  const seen: number[] = [];
  const trainer = await Trainer.create(spec, {
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-4, maxGradNorm: 5 },
    learningRate: (step) => { seen.push(step); return 0.05 / (1 + step / 50); },
    seed: 3,
  });
  const rng = new Rng(9);
  const batch = (rows: number): Batch => {
    const features = Float32Array.from({ length: rows * 4 }, () => rng.normal());
    const labels = Array.from({ length: rows }, (_, r) => {
      let best = 0;
      for (let c = 1; c < 4; c++) if ((features[r * 4 + c] as number) > (features[r * 4 + best] as number)) best = c;
      return best;
    });
    return { inputs: { features }, labels };
  };
  const results = [];
  for (let i = 0; i < 80; i++) results.push(await trainer.step(batch(32)));
  const losses = results.map((r) => r.loss);
  const held = await trainer.evaluate(batch(256));
  t.diagnostic(`MLP loss every 10 steps: ${losses.filter((_, i) => i % 10 === 0).map((l) => l.toFixed(3)).join(' ')}; accuracy ${String(held.accuracy)}`);
  assert.deepEqual(seen.slice(0, 3), [0, 1, 2]);
  assert.equal(results[79]?.learningRate, 0.05 / (1 + 79 / 50));
  assert.ok(results.every((r) => r.gradNorm !== undefined && r.gradNorm > 0));
  assert.ok(mean(losses.slice(-10)) < 0.4 * mean(losses.slice(0, 5)));
  assert.ok((held.accuracy ?? 0) > 0.85, `accuracy ${String(held.accuracy)}`);
  await trainer.dispose();
});
