// Issue #4 on a real cluster: train() with two data-parallel replicas on two worker processes, against one
// replica; the exported model used on its own; the loader's bound; and bad input refused with a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataframe as dd, isLoomError } from '@loom/client';
import { charcnn, DataLoader, InferenceModel, isMlError, PAPER_ALPHABET, train, type TrainProgress } from '@loom/ml';
import { useCluster } from './cluster-fixture.js';
import { syntheticMessages } from './text-data.js';

const fixture = useCluster({ workers: 2, threadsPerWorker: 1, memoryLimit: '1GiB' });
const dir = mkdtempSync(join(tmpdir(), 'loom-train-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const messages = syntheticMessages(1600);
const frame = () => dd.fromArrow(dd.arrow.tableFromArrays({
  body: messages.map((m) => m.body), label: messages.map((m) => m.label),
}), { npartitions: 8 });
const model = charcnn({ length: 128, width: 32, dropout: 0.2 });
const settings = { text: 'body', label: 'label', model, epochs: 5, batchSize: 32, syncEvery: 4, learningRate: 2e-3, seed: 3 } as const;

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
/** Whole steps of 2 replicas x 32 rows an epoch makes of the 1,600 rows less the test and validation rows (drop-last). */
const stepsPerEpoch = (metrics: { testRows?: number; validationRows?: number }) =>
  Math.floor((1600 - metrics.testRows! - metrics.validationRows!) / 64);

test('two replicas on two workers train a CharCNN; its exported model stands alone and matches one replica', async () => {
  const progress: TrainProgress[] = [];
  const out = join(dir, 'model.onnx');
  const two = await train(fixture.client, { ...settings, data: frame(), replicas: 2, out, onProgress: (p) => progress.push(p) });
  assert.deepEqual(two.classes, ['ham', 'spam']);
  assert.equal(two.modelPath, out);
  const { metrics } = two;
  assert.equal(progress.length, metrics.steps, 'one progress report per step');
  assert.deepEqual(progress.map((p) => p.step), Array.from({ length: metrics.steps }, (_, i) => i + 1));
  assert.ok(mean(metrics.trainLoss.slice(-5)) < 0.5 * mean(metrics.trainLoss.slice(0, 5)), `loss fell: ${metrics.trainLoss.map((l) => l.toFixed(2)).join(' ')}`);
  assert.ok(metrics.testRows! > 200 && metrics.testRows! < 450, `about 20 % held out: ${metrics.testRows}`);
  assert.ok(metrics.testAccuracy! >= 0.9, `test accuracy ${metrics.testAccuracy}`);
  assert.ok(metrics.maxPartitionsHeld <= 4);
  // Every step saw 2 replicas x 32 rows of the ~1,150 training rows, five times over (drop-last per epoch); the
  // validation rows (10 % of the rest) scored each epoch.
  assert.equal(metrics.samples, metrics.steps * 64);
  assert.ok(metrics.validationRows! > 80 && metrics.validationRows! < 180, `${metrics.validationRows} validation rows`);
  assert.equal(metrics.validationLoss.length, 5);
  assert.equal(metrics.steps, 5 * stepsPerEpoch(metrics));

  const exported = await InferenceModel.load(out);
  assert.deepEqual(JSON.parse(exported.metadata['classes']!), ['ham', 'spam']);
  assert.equal(JSON.parse(exported.metadata['alphabet']!), PAPER_ALPHABET);
  assert.equal(JSON.parse(exported.metadata['length']!), 128);
  const fresh = syntheticMessages(200, 99);
  const predictions = await exported.classifyTexts(fresh.map((m) => m.body));
  const correct = predictions.filter((p, i) => p.label === fresh[i]!.label).length;
  assert.ok(correct / fresh.length >= 0.9, `exported model: ${correct}/200 on fresh messages`);
  await exported.dispose();

  const one = await train(fixture.client, { ...settings, data: frame(), replicas: 1, epochs: 3 });
  assert.ok(one.metrics.testAccuracy! >= 0.9, `one replica: ${one.metrics.testAccuracy}`);
  assert.ok(Math.abs(one.metrics.testAccuracy! - metrics.testAccuracy!) <= 0.08, `replicas agree: ${one.metrics.testAccuracy} vs ${metrics.testAccuracy}`);
});

test('the loader pulls each row once per epoch, reshuffles, and holds at most maxPartitions partitions', async () => {
  const df = dd.fromArrow(dd.arrow.tableFromArrays({ body: messages.map((m) => m.body), label: messages.map((m) => m.label) }), { npartitions: 12 });
  const loader = new DataLoader(fixture.client, df, {
    text: 'body', label: 'label', classes: ['ham', 'spam'], alphabet: PAPER_ALPHABET, length: 32, lowercase: true,
  }, { batchSize: 50, maxPartitions: 4, seed: 5 });
  const epochLabels: string[] = [];
  for (const epoch of [0, 1]) {
    let rows = 0;
    let signature = '';
    for await (const batch of loader.batches(epoch)) {
      assert.equal(batch.rows, 50);
      assert.equal(batch.chars.length, 50 * 32);
      rows += batch.rows;
      signature += batch.labels.slice(0, 8).join('');
    }
    assert.equal(rows, 1600, 'every row exactly once (1600 = 32 batches of 50)');
    epochLabels.push(signature);
  }
  assert.notEqual(epochLabels[0], epochLabels[1], 'a different order each epoch');
  assert.ok(loader.maxHeld <= 4, `held ${loader.maxHeld}`);
});

test('bad input fails with a clear error: unknown column, unknown label, bad options, too few classes', async () => {
  const data = frame();
  await assert.rejects(train(fixture.client, { ...settings, data, text: 'missing', classes: ['ham', 'spam'] }),
    (error: unknown) => isLoomError(error) && /no column 'missing' \(columns: body, label\)/.test(error.message));
  await assert.rejects(train(fixture.client, { ...settings, data, classes: ['ham', 'eggs'] }),
    (error: unknown) => isLoomError(error) && /label "spam" is not one of the classes \["ham", "eggs"\]/.test(error.message));
  await assert.rejects(train(fixture.client, { ...settings, data, batchSize: 0 }), (error: unknown) => isMlError(error, 'INVALID_ARGUMENT'));
  await assert.rejects(train(fixture.client, { ...settings, data, device: 'cuda' }), (error: unknown) => isMlError(error, 'PROVIDER_UNAVAILABLE'));
  // Too few rows for a single step: an error, not a model that is its random initialization.
  const tiny = dd.fromArrow(dd.arrow.tableFromArrays({ body: messages.slice(0, 40).map((m) => m.body), label: messages.slice(0, 40).map((m) => m.label) }));
  await assert.rejects(train(fixture.client, { ...settings, data: tiny, classes: ['ham', 'spam'] }),
    (error: unknown) => isMlError(error, 'INVALID_ARGUMENT') && /fewer rows than one step needs \(replicas x batchSize = 32\)/.test(error.message));
  const oneClass = dd.fromArrow(dd.arrow.tableFromArrays({ body: ['a', 'b'], label: ['x', 'x'] }));
  await assert.rejects(train(fixture.client, { ...settings, data: oneClass }), /1 class\(es\); a classifier needs two/);
  assert.throws(() => charcnn({ length: 40 }), /too short/);
  // The cluster is still usable afterwards.
  const info = await fixture.client.schedulerInfo();
  assert.equal(info.workers.length, 2);
});

test('a worker killed mid-training: lost rounds are recomputed from lineage and training finishes as well', async () => {
  let killed: Promise<unknown> | undefined;
  try {
    const result = await train(fixture.client, {
      ...settings, data: frame(), replicas: 2,
      onProgress: (p) => { if (p.step === 40) killed ??= fixture.cluster.killWorker(1); },
    });
    assert.ok(killed !== undefined, 'a worker was killed at step 40');
    await killed;
    assert.equal(result.metrics.trainLoss.length, result.metrics.steps);
    assert.equal(result.metrics.steps, 5 * stepsPerEpoch(result.metrics));
    assert.ok(result.metrics.testAccuracy! >= 0.9, `test accuracy ${result.metrics.testAccuracy}`);
    assert.equal((await fixture.client.schedulerInfo()).workers.length, 1);
  } finally {
    // Leave the file's cluster as the other tests expect it: two workers.
    await killed;
    while (fixture.cluster.workers.length < 2) await fixture.cluster.addWorker();
  }
});
