// train() as a user first calls it: no epochs, rate or optimizer given. On a small task with a real signal the
// defaults (early stopping on validation loss over an epoch cap, warm-up, clipping) must learn it; on a task with
// no signal the run must say its accuracy is near chance instead of handing back a useless model quietly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataframe as dd } from '@loom/client';
import { charcnn, train } from '@loom/ml';
import { useCluster } from './cluster-fixture.js';
import { syntheticMessages } from './text-data.js';

const fixture = useCluster({ workers: 1, threadsPerWorker: 1, memoryLimit: '1GiB' });

// A narrow CharCNN keeps steps cheap, and two partitions of 2,400 rows keep the per-epoch tasks few (early
// stopping waits 300 steps past the best epoch whatever the epoch size); training itself is left at its defaults.
const model = charcnn({ length: 128, width: 16 });
const messages = syntheticMessages(2400, 11);
const frame = (labels: readonly string[]) =>
  dd.fromArrow(dd.arrow.tableFromArrays({ body: messages.map((m) => m.body), label: [...labels] }), { npartitions: 2 });

test('with the default epochs, rate and optimizer, a CharCNN learns a small task well above the majority baseline', async () => {
  const { metrics } = await train(fixture.client, { data: frame(messages.map((m) => m.label)), text: 'body', label: 'label', model });
  const baseline = metrics.majorityBaseline!;
  assert.ok(baseline > 0.4 && baseline < 0.6, `a balanced task: baseline ${baseline}`);
  assert.ok(metrics.testAccuracy! >= baseline + 0.3, `test accuracy ${metrics.testAccuracy} vs baseline ${baseline}`);
  assert.deepEqual(metrics.warnings, []);
  // Early stopping watched a validation split taken from the training rows and kept its best epoch.
  assert.equal(metrics.validationLoss.length, metrics.epochs);
  assert.ok(metrics.validationRows! > 140 && metrics.validationRows! < 250, `about 10 % of the 1,920 training rows: ${metrics.validationRows}`);
  // The kept epoch is the best, up to the 0.001 a later loss must gain to count as better.
  assert.ok(metrics.validationLoss[metrics.bestEpoch]! <= Math.min(...metrics.validationLoss) + 1e-3, `kept epoch ${metrics.bestEpoch}`);
  assert.ok(metrics.epochs > 1 && metrics.epochs <= 30, `${metrics.epochs} epochs`);
});

test('labels with no relation to the text: the run ends early and warns that its accuracy is near chance', async () => {
  let state = 12345;
  const coin = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 < 0.5 ? 'spam' : 'ham';
  };
  const { metrics } = await train(fixture.client, { data: frame(messages.map(() => coin())), text: 'body', label: 'label', model });
  assert.equal(metrics.warnings.length, 1, `warnings: ${JSON.stringify(metrics.warnings)}`);
  assert.match(metrics.warnings[0]!, /^test accuracy [\d.]+ % is near chance: always answering the most common class scores [\d.]+ %/);
  assert.ok(metrics.epochs < 30, `early stopping ended the run after ${metrics.epochs} epochs`);
});
