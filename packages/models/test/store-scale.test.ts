// 250,000 AR(8) models in one group: written in batches, published, loaded, looked up. The loaded group must
// hold tens of megabytes, not gigabytes: its bytes are counted exactly (files + id index), and the heap's
// growth is measured between two full collections while the group is held. Both bounds are loose: V8's heap
// accounting moves by megabytes between runs. No timing assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ModelStore } from '../src/index.js';
import { tempDir } from './store-helpers.js';
import { modelRecord, records } from './store-records.js';

const MODELS = 250_000;
const BATCH = 10_000;
const MB = 1024 * 1024;

// A full collection on demand, without starting node with --expose-gc.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

test('250,000 AR(8) models load into tens of megabytes and are found by id', { timeout: 300_000 }, async () => {
  const store = await ModelStore.open(join(tempDir('store-scale'), 'store'));
  const writer = await store.writer('fleet');
  for (let from = 0; from < MODELS; from += BATCH) await writer.writeBatch(`b${from}`, records(from, from + BATCH));
  const manifest = await writer.publish();
  assert.equal(manifest.models, MODELS);
  assert.ok(manifest.files.length >= 2 && manifest.files.length <= MODELS / 4096, `${manifest.files.length} part files: thousands of models each, not one per model`);

  const memory = (): number => {
    collect();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  const before = memory();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const group = await store.open('fleet');
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  const grown = memory() - before;
  process.stdout.write(`# loaded ${group.size} models in ${seconds.toFixed(2)} s (${((user + system) / 1e6).toFixed(2)} s CPU); holds ${(group.byteLength / MB).toFixed(1)} MB; heap+buffers grew ${(grown / MB).toFixed(1)} MB\n`);

  assert.equal(group.size, MODELS);
  assert.ok(group.byteLength > 10 * MB && group.byteLength < 100 * MB, `bytes held: ${group.byteLength}`);
  assert.ok(grown < 150 * MB, `memory grew by ${(grown / MB).toFixed(0)} MB loading the group`);
  for (const index of [0, 1, 65_535, 65_536, 123_457, MODELS - 1]) {
    const expected = modelRecord(index);
    const model = group.get(expected.id);
    assert.ok(model, `m${index} missing`);
    assert.deepEqual([...model.params], [...expected.params]);
    assert.deepEqual(model.extra, expected.extra);
    assert.equal(model.metrics.anomalies, expected.metrics.anomalies);
  }
  assert.equal(group.get(`m${MODELS}`), undefined);
});
