// writeColumns stages the same models as writeBatch does for records (trainMany's path), and refuses what
// checkRecord refuses, naming the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ModelStore, type ModelRecord, type StoredModel } from '../src/index.js';
import type { ModelColumns } from '../src/store/model-columns.js';
import { COUNT_METRICS, FLOAT_METRICS } from '../src/store/model-record.js';
import { tempDir } from './store-helpers.js';
import { records } from './store-records.js';

const root = tempDir('store-columns');
let stores = 0;
const freshStore = () => ModelStore.open(join(root, `store-${stores++}`));

/** `models` as columns, with `skip` rows in the columns but not listed (a batch's failed rows). */
function columnsOf(models: readonly ModelRecord[], skip: ReadonlySet<number> = new Set()): ModelColumns {
  const first = models[0] as ModelRecord;
  const k = first.params.length;
  const params = new Float64Array(models.length * k);
  const ranges = new Float64Array(models.length * 4);
  models.forEach((model, i) => {
    params.set(model.params, i * k);
    ranges.set([model.trainRange.from, model.trainRange.to, model.testRange.from, model.testRange.to], 4 * i);
  });
  const floats = Object.fromEntries(FLOAT_METRICS.map((name) => [name, Float64Array.from(models, (m) => m.metrics[name])]));
  const counts = Object.fromEntries(COUNT_METRICS.map((name) => [name, Int32Array.from(models, (m) => m.metrics[name])]));
  return {
    rows: Uint32Array.from(models.keys()).filter((i) => !skip.has(i)),
    ids: models.map((m) => m.id),
    family: first.family,
    familyKey: first.familyKey,
    paramCount: k,
    params,
    ranges,
    floatMetrics: floats as ModelColumns['floatMetrics'],
    countMetrics: counts as ModelColumns['countMetrics'],
    extra: models.map((m) => m.extra),
  };
}

const withoutTime = ({ trainedAt: _, params, ...rest }: StoredModel) => ({ ...rest, params: [...params] });

test('columns and records of the same models read back the same, listed rows only', async () => {
  const models = records(0, 40).map((m, i) => (i % 3 === 0 ? { ...m, extra: {} } : m));
  const skip = new Set([0, 7, 39]);
  const byRecords = await freshStore();
  const recordWriter = await byRecords.writer('g');
  await recordWriter.writeBatch('b', models.filter((_, i) => !skip.has(i)));
  await recordWriter.publish();
  const byColumns = await freshStore();
  const columnWriter = await byColumns.writer('g');
  await columnWriter.writeColumns('b', columnsOf(models, skip));
  await columnWriter.publish();
  const [a, b] = [await byRecords.open('g'), await byColumns.open('g')];
  assert.equal(b.size, models.length - skip.size);
  for (const [i, model] of models.entries()) {
    const expected = a.get(model.id);
    const actual = b.get(model.id);
    if (skip.has(i)) {
      assert.equal(actual, undefined);
      continue;
    }
    assert.ok(expected && actual, model.id);
    assert.deepEqual(withoutTime(actual), withoutTime(expected));
  }
});

test('bad columns are refused naming the batch and the model', async () => {
  const store = await freshStore();
  const writer = await store.writer('g');
  const good = columnsOf(records(0, 5));
  const cases: Array<[Partial<ModelColumns>, RegExp]> = [
    [{ ids: ['m0', 'm1', 'm1', 'm3', 'm4'] }, /batch "x": model "m1" appears twice/],
    [{ ids: ['m0', '', 'm2', 'm3', 'm4'] }, /row 1: id must be a non-empty string/],
    [{ params: new Float64Array(3) }, /params must be a Float64Array of 5 x 10/],
    [{ rows: Uint32Array.of(0, 2, 1) }, /rows must be ascending/],
    [{ rows: Uint32Array.of(5) }, /rows must be ascending and below 5/],
    [{ countMetrics: { ...good.countMetrics, anomalies: Int32Array.of(0, -1, 0, 0, 0) } }, /model "m1": metrics.anomalies must be an integer/],
    [{ extra: [{}, { '': 'x' }, {}, {}, {}] }, /model "m1": extra has a column named ""/],
    [{ extra: [{}, {}, { owner: 3 as unknown as string }, {}, {}] }, /model "m2": extra.owner must be a string/],
    [{ familyKey: '' }, /familyKey must be a non-empty string/],
  ];
  for (const [change, message] of cases) {
    await assert.rejects(writer.writeColumns('x', { ...good, ...change }), message, String(message));
  }
  assert.deepEqual(writer.batchKeys(), []);
  await writer.abort();
});
