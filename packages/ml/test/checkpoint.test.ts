import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  averageWeights, charCnn, decodeCheckpoint, encodeCheckpoint, isMlError, loadCheckpoint, mlp, Rng, saveCheckpoint, Trainer,
  type Batch, type ModelSpec, type OptimizerConfig, type WeightSet,
} from '../src/index.js';

// Train N steps, checkpoint, resume M steps in a fresh trainer: identical to N + M uninterrupted steps, bit for
// bit, dropout masks and learning-rate schedule included.
const length = 128;
const spec = charCnn({ classes: ['x', 'y'], alphabet: 'abcdefgh', length, features: 8, hidden: 16, dropout: 0.5 });

function batches(count: number): Batch[] {
  const rng = new Rng(21);
  return Array.from({ length: count }, () => ({
    inputs: { chars: BigInt64Array.from({ length: 4 * length }, () => BigInt(rng.int(9))) },
    labels: Array.from({ length: 4 }, () => rng.int(2)),
  }));
}

function assertSameWeights(a: WeightSet, b: WeightSet): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const name of Object.keys(a)) assert.deepEqual(a[name]?.data, b[name]?.data, `weights '${name}' differ`);
}

async function resumeMatches(model: ModelSpec, optimizer: OptimizerConfig, data: Batch[], split: number): Promise<void> {
  const options = { optimizer, learningRate: (step: number) => 0.01 * 0.9 ** step, seed: 17, replica: 2 };
  const straight = await Trainer.create(model, options);
  const straightLosses: number[] = [];
  for (const batch of data) straightLosses.push((await straight.step(batch)).loss);

  const first = await Trainer.create(model, options);
  const losses: number[] = [];
  for (const batch of data.slice(0, split)) losses.push((await first.step(batch)).loss);
  const dir = await mkdtemp(join(tmpdir(), 'loom-ml-ckpt-'));
  try {
    await saveCheckpoint(join(dir, 'ckpt'), first.checkpoint());
    const restored = await loadCheckpoint(join(dir, 'ckpt'));
    assert.equal(restored.step, split);
    const resumed = await Trainer.resume(model, restored, { learningRate: options.learningRate });
    assert.equal(resumed.stepCount, split);
    for (const batch of data.slice(split)) losses.push((await resumed.step(batch)).loss);
    assert.deepEqual(losses, straightLosses);
    assertSameWeights(resumed.getWeights(), straight.getWeights());
    assert.deepEqual(resumed.checkpoint().state, straight.checkpoint().state);
    await resumed.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await first.dispose();
  await straight.dispose();
}

test('resuming a CharCNN with Adam and dropout from a checkpoint equals training straight through', async () => {
  await resumeMatches(spec, { kind: 'adam', weightDecay: 0.01 }, batches(6), 3);
});

test('resuming an MLP with SGD + momentum equals training straight through', async () => {
  const model = mlp({ inputs: 6, hidden: [8, 8], target: { kind: 'regression', size: 2 }, dropout: 0.2 });
  const rng = new Rng(4);
  const data = Array.from({ length: 5 }, () => ({
    inputs: { features: Float32Array.from({ length: 30 }, () => rng.normal()) },
    labels: Float32Array.from({ length: 10 }, () => rng.normal()),
  }));
  await resumeMatches(model, { kind: 'sgd', momentum: 0.9 }, data, 2);
});

test('checkpoints round-trip through bytes and are refused by another model', async () => {
  const trainer = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 1e-3, seed: 1 });
  await trainer.step(batches(1)[0] as Batch);
  const checkpoint = trainer.checkpoint();
  const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint));
  assert.deepEqual(decoded, checkpoint);
  assert.ok(Object.keys(decoded.state).includes('optimizer.step'));
  assert.deepEqual(Array.from(decoded.state['optimizer.step']?.data as Float32Array), [1]);
  const other = mlp({ inputs: 3, hidden: [], target: { kind: 'classes', classes: 2 } });
  await assert.rejects(Trainer.resume(other, checkpoint, { learningRate: 1e-3 }), (error: unknown) => isMlError(error, 'CHECKPOINT_MISMATCH'));
  assert.throws(() => decodeCheckpoint(new Uint8Array(16)), (error: unknown) => isMlError(error, 'CHECKPOINT_MISMATCH'));
  await trainer.dispose();
});

test('setWeights takes averaged replica weights and rejects foreign ones', async () => {
  const a = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 1e-3, seed: 1 });
  const b = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 1e-3, seed: 2 });
  const wa = a.getWeights();
  const wb = b.getWeights();
  const average = averageWeights([wa, wb]);
  const name = 'conv1.weight';
  const [x, y, m] = [wa, wb, average].map((w) => w[name]?.data as Float32Array) as [Float32Array, Float32Array, Float32Array];
  assert.notEqual(x[0], y[0]);
  for (let i = 0; i < x.length; i++) assert.equal(m[i], Math.fround(((x[i] as number) + (y[i] as number)) / 2));
  a.setWeights(average);
  assertSameWeights(a.getWeights(), average);
  assert.equal(a.stepCount, 0);
  assert.throws(() => a.setWeights({ ...average, [name]: { dtype: 'float32', shape: [3], data: new Float32Array(3) } }),
    (error: unknown) => isMlError(error, 'CHECKPOINT_MISMATCH'));
  assert.throws(() => a.setWeights({ ...average, extra: { dtype: 'float32', shape: [1], data: new Float32Array(1) } }),
    (error: unknown) => isMlError(error, 'CHECKPOINT_MISMATCH'));
  await a.dispose();
  await b.dispose();
});

test('restore() continues from a checkpoint in an existing session exactly as a resumed trainer does', async () => {
  const options = { optimizer: { kind: 'adam' } as const, learningRate: 0.01, seed: 4, replica: 1 };
  const data = batches(6);
  const source = await Trainer.create(spec, options);
  for (const batch of data.slice(0, 3)) await source.step(batch);
  const checkpoint = source.checkpoint();
  const reused = await Trainer.create(spec, options); // a cached trainer that has done other work
  await reused.step(data[5]!);
  await reused.restore(decodeCheckpoint(encodeCheckpoint(checkpoint)));
  assert.equal(reused.stepCount, 3);
  const resumed = await Trainer.resume(spec, checkpoint, { learningRate: 0.01 });
  for (const batch of data.slice(3)) assert.equal((await reused.step(batch)).loss, (await resumed.step(batch)).loss);
  assertSameWeights(reused.getWeights(), resumed.getWeights());
  const sgd = await Trainer.create(spec, { ...options, optimizer: { kind: 'sgd', momentum: 0.9 } });
  await assert.rejects(sgd.restore(checkpoint), (error: unknown) => isMlError(error, 'CHECKPOINT_MISMATCH'));
  await Promise.all([source, reused, resumed, sgd].map((trainer) => trainer.dispose()));
});
