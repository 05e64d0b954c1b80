import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { charCnn, Trainer, type WeightSet } from '../src/index.js';

// InferenceSession.run blocks its thread for a whole step, so callers train in a worker thread. The engine
// must load there, and weights must cross threads by structured clone (for parameter averaging).
test('a Trainer runs in a worker thread and its weights cross back to the main thread', async () => {
  const index = new URL('../src/index.js', import.meta.url).href;
  const source = `
    import { parentPort } from 'node:worker_threads';
    import { charCnn, Trainer } from ${JSON.stringify(index)};
    const spec = charCnn({ classes: ['a', 'b'], alphabet: 'abcd', length: 128, features: 4, hidden: 8 });
    const trainer = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 1e-2, seed: 5 });
    const losses = [];
    for (let i = 0; i < 3; i++) {
      const chars = Int32Array.from({ length: 2 * 128 }, (_, j) => (j * 7 + i) % 5);
      losses.push((await trainer.step({ inputs: { chars }, labels: [0, 1] })).loss);
    }
    parentPort.postMessage({ losses, weights: trainer.getWeights() });
    await trainer.dispose();
  `;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 1);
  const message = await new Promise<{ losses: number[]; weights: WeightSet }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  clearInterval(timer);
  await new Promise((resolve) => worker.once('exit', resolve));
  assert.equal(message.losses.length, 3);
  assert.ok(message.losses.every(Number.isFinite));
  assert.ok(ticks > 0, 'the main thread kept running while the worker trained');

  const spec = charCnn({ classes: ['a', 'b'], alphabet: 'abcd', length: 128, features: 4, hidden: 8 });
  const local = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 1e-2, seed: 5 });
  local.setWeights(message.weights);
  assert.deepEqual(local.getWeights()['fc9.bias']?.data, message.weights['fc9.bias']?.data);
  await local.dispose();
});
