import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  charCnn, isMlError, mlp, Rng, Trainer, type Batch, type ModelSpec, type StepResult, type TrainerOptions,
} from '../src/index.js';

// Several steps in one session call (an ONNX Loop with weights and optimizer state carried inside onnxruntime)
// must be the same arithmetic as one call per step: same losses, outputs, gradient norms and final state, bit
// for bit with one thread, dropout masks and the learning-rate schedule included.
const length = 128;
const cnn = charCnn({ classes: ['x', 'y', 'z'], alphabet: 'abcdefgh', length, features: 8, hidden: 16, dropout: 0.5 });
const regression = mlp({ inputs: 3, hidden: [8], target: { kind: 'regression', size: 2 }, dropout: 0.25 });

function textBatches(sizes: readonly number[]): Batch[] {
  const rng = new Rng(5);
  return sizes.map((rows) => ({
    inputs: { chars: BigInt64Array.from({ length: rows * length }, () => BigInt(rng.int(9))) },
    labels: Array.from({ length: rows }, () => rng.int(3)),
  }));
}

function tableBatches(sizes: readonly number[]): Batch[] {
  const rng = new Rng(6);
  return sizes.map((rows) => ({
    inputs: { features: Float32Array.from({ length: rows * 3 }, () => rng.normal()) },
    labels: Float32Array.from({ length: rows * 2 }, () => rng.normal()),
  }));
}

async function oneCallEqualsOneCallPerStep(spec: ModelSpec, options: TrainerOptions, data: readonly Batch[]): Promise<void> {
  const perStep = await Trainer.create(spec, options);
  const expected: StepResult[] = [];
  for (const batch of data) expected.push(await perStep.step(batch));
  const looped = await Trainer.create(spec, options);
  const actual = await looped.steps(data);
  assert.equal(actual.length, data.length);
  actual.forEach((result, i) => {
    const want = expected[i];
    assert.equal(result.step, i + 1);
    assert.equal(result.loss, want?.loss, `loss of step ${i + 1}`);
    assert.equal(result.learningRate, want?.learningRate);
    assert.equal(result.gradNorm, want?.gradNorm);
    assert.deepEqual(result.output.shape, want?.output.shape);
    assert.deepEqual(Array.from(result.output.data as Float32Array), Array.from(want?.output.data as Float32Array));
  });
  assert.equal(looped.stepCount, data.length);
  const [a, b] = [looped.checkpoint(), perStep.checkpoint()];
  for (const name of Object.keys(b.weights)) assert.deepEqual(a.weights[name]?.data, b.weights[name]?.data, `weights '${name}'`);
  for (const name of Object.keys(b.state)) assert.deepEqual(a.state[name]?.data, b.state[name]?.data, `state '${name}'`);
  await Promise.all([looped.dispose(), perStep.dispose()]);
}

test('K steps in one call equal K calls: CharCNN, Adam, dropout, a schedule, a short last batch', async () => {
  // Sizes 4, 4, 4, 3, 4: the short batch splits the steps into three session calls of one size each.
  await oneCallEqualsOneCallPerStep(cnn, {
    optimizer: { kind: 'adam', weightDecay: 0.01 }, learningRate: (step) => 0.01 * 0.8 ** step, seed: 3, replica: 1,
    execution: { threads: 1 },
  }, textBatches([4, 4, 4, 3, 4]));
});

test('K steps in one call equal K calls: MLP regression with dropout, SGD with momentum and gradient clipping', async () => {
  await oneCallEqualsOneCallPerStep(regression, {
    optimizer: { kind: 'sgd', momentum: 0.9, maxGradNorm: 0.5 }, learningRate: 0.05, seed: 4, execution: { threads: 1 },
  }, tableBatches([5, 5, 5, 5]));
});

test('steps() checks every batch and rate before running any step', async () => {
  const trainer = await Trainer.create(cnn, { optimizer: { kind: 'adam' }, learningRate: 0.01, execution: { threads: 1 } });
  const [good, bad] = textBatches([4, 4]);
  const broken: Batch = { ...(bad as Batch), labels: [0, 1, 7, 0] };
  await assert.rejects(trainer.steps([good as Batch, broken]), (e: unknown) => isMlError(e, 'INVALID_ARGUMENT') && /label 7/.test(String(e)));
  await assert.rejects(trainer.steps([good as Batch], { learningRates: [0.1, 0.1] }), /2 learning rates for 1 batches/);
  await assert.rejects(trainer.steps([good as Batch, good as Batch], { learningRates: [0.1, Number.NaN] }), /learning rate NaN/);
  assert.equal(trainer.stepCount, 0);
  assert.deepEqual(await trainer.steps([]), []);
  assert.equal((await trainer.steps([good as Batch, good as Batch])).at(-1)?.step, 2);
  await trainer.dispose();
});
