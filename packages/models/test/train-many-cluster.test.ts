// trainMany on a real cluster (2 workers x 1 thread) with real PostgreSQL tables and real Parquet and CSV files:
// every model stored equals evaluate() on the same values, failed slices are listed with their reasons (in the
// result and the version's manifest) while the rest train, the client submits one task per planned batch and
// each batch reads each of its sources once, and `only` retrains a subset while every other model is carried
// forward byte for byte.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { ar, familySpec, ModelStore, readSplit, trainMany, type Split, type StoredModel, type TrainClient, type TrainProgress } from '../src/index.js';
import { planBatches } from '../src/train-many/plan-batches.js';
import { useLocalCluster } from './train-many-cluster.js';
import { expectedModel, fleetSource, HOUR, START, writeCsv, writeParquet, writeSplit, writeTable, type FleetSource } from './train-many-fleet.js';
import { tempDir } from './store-helpers.js';

const fixture = useLocalCluster();
const url = process.env['LOOM_TEST_PG_URL'] ?? 'postgres://loom:loom@127.0.0.1:5432/loom_test';
const family = ar({ p: 3 });
const dir = tempDir('train-cluster');
const h = (hours: number): number => START + hours * HOUR;
const ranges = { train_from: h(0), train_to: h(192), test_from: h(192), test_to: h(240) };
const prefix = `tmc_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const tables = Array.from({ length: 4 }, (_, t) => fleetSource(`${prefix}_${t}`, ['cpu', 'mem', 'io'], 240, 100 + t));
const files = Array.from({ length: 3 }, (_, f) => fleetSource(`file${f}`, ['cpu', 'mem', 'io'], 240, 200 + f));
/** Inflates the size estimate so this small fleet is cut into several batches, as a big one would be. */
const pointsPerSlice = 20_000;
const admin = new pg.Client({ connectionString: url });

before(async () => {
  await admin.connect();
  for (const table of tables) await writeTable(admin, table);
  writeParquet(join(dir, 'file0.parquet'), files[0] as FleetSource);
  writeParquet(join(dir, 'file1.parquet'), files[1] as FleetSource);
  writeCsv(join(dir, 'file2.csv'), files[2] as FleetSource);
});
after(async () => {
  for (const table of tables) await admin.query(`DROP TABLE IF EXISTS ${table.name}`);
  await admin.end();
});

/** The client, counting the tasks trainMany submits. */
function countingClient(): { client: TrainClient; submitted: () => number } {
  let submitted = 0;
  const { client } = fixture;
  return {
    client: {
      submitWith: ((...args: Parameters<TrainClient['submitWith']>) => {
        submitted++;
        return client.submitWith(...args);
      }) as TrainClient['submitWith'],
      schedulerInfo: () => client.schedulerInfo(),
    },
    submitted: () => submitted,
  };
}

/** The batches trainMany plans for `split`, and the sources they read summed over the batches. */
function planned(split: Split): { batches: number; sourceReads: number } {
  const batches = planBatches(split, { family: familySpec(family), familyKey: family.key(), timeColumn: 'ts', batchSeconds: 0.5, pointsPerSlice });
  return { batches: batches.length, sourceReads: batches.reduce((sum, batch) => sum + new Set(batch.slices.map((slice) => slice.sourceKey)).size, 0) };
}

function assertStored(model: StoredModel | undefined, source: FleetSource, metric: string, id: string): void {
  assert.ok(model, `model ${id} stored`);
  const expected = expectedModel(family, source, metric, { from: h(0), to: h(192) }, { from: h(192), to: h(240) });
  assert.deepEqual([...model.params], [...expected.params], `params of ${id}`);
  assert.equal(model.familyKey, family.key());
  assert.equal(model.metrics.testRmse, expected.metrics.testRmse);
  assert.deepEqual(model.trainRange, { from: h(0), to: h(192) });
}

let dbVersion = 0;

test('database slices: every model stored exact, bad slices listed, one task per batch, one query per table per batch', async () => {
  const rows: Array<Record<string, string | number>> = tables.flatMap((table, t) =>
    ['cpu', 'mem', 'io'].map((metric) => ({ id: `t${t}.${metric}`, database: 'metrics', table: table.name, column: metric, ...ranges, region: t % 2 === 0 ? 'eu' : 'us' })),
  );
  rows.push({ id: 't0.gone', database: 'metrics', table: tables[0]!.name, column: 'gone', ...ranges, region: 'eu' });
  rows.push({ id: 't1.late', database: 'metrics', table: tables[1]!.name, column: 'cpu', train_from: h(500), train_to: h(600), test_from: h(600), test_to: h(700), region: 'us' });
  writeSplit(join(dir, 'db-split.csv'), rows);
  const split = await readSplit(join(dir, 'db-split.csv'), { connections: { metrics: url } });
  const store = await ModelStore.open(join(dir, 'store'));
  const counting = countingClient();
  const progress: TrainProgress[] = [];

  const run = await trainMany(counting.client, { split, family, store, group: 'db', pointsPerSlice, onProgress: (p) => progress.push(p) });

  assert.equal(run.trained, 12);
  assert.deepEqual(run.failed.map((f) => [f.id, f.code]).sort(), [['t0.gone', 'MISSING_COLUMN'], ['t1.late', 'EMPTY_RANGE']]);
  const plan = planned(split);
  assert.ok(plan.batches > 1 && plan.batches < split.size / 2, `${plan.batches} batches`);
  assert.equal(run.batches.total, plan.batches);
  assert.equal(counting.submitted(), plan.batches, 'one task per batch');
  // One query per table per batch, and for the table with a missing column a catalog lookup and the query again.
  assert.equal(run.work.queries, plan.sourceReads + 2);
  assert.equal(run.metrics.models, 12);
  assert.deepEqual(progress.map((p) => p.done), [...progress.map((p) => p.done)].sort((a, b) => a - b), 'done only grows');
  assert.deepEqual({ ...progress.at(-1), rate: 0, etaSeconds: 0, batch: '' }, { done: 14, trained: 12, failed: 2, total: 14, rate: 0, etaSeconds: 0, batches: { done: run.batches.total, total: run.batches.total }, batch: '' });

  const group = await store.open('db');
  assert.equal(group.size, 12);
  tables.forEach((table, t) => {
    for (const metric of ['cpu', 'mem', 'io']) assertStored(group.get(`t${t}.${metric}`), table, metric, `t${t}.${metric}`);
  });
  assert.equal(group.get('t1.cpu')?.extra['region'], 'us', 'split columns pass through');
  const meta = group.manifest.meta['trainMany'] as { failed: number; failures: Array<{ id: string; code: string; error: string }> };
  assert.equal(meta.failed, 2);
  assert.match(meta.failures.find((f) => f.id === 't0.gone')?.error ?? '', /has no column "gone"/);
  dbVersion = run.version;
});

test('only: the subset is retrained into a new version, every other model carried forward byte for byte', async () => {
  assert.ok(dbVersion > 0, 'runs after the database test');
  const store = await ModelStore.open(join(dir, 'store'));
  const before = await store.open('db', dbVersion);
  const split = await readSplit(join(dir, 'db-split.csv'), { connections: { metrics: url } });
  // t3.io can no longer be read: its retraining fails, and it keeps the model it had.
  await admin.query(`ALTER TABLE ${tables[3]!.name} RENAME COLUMN io TO io_old`);
  const run = await trainMany(fixture.client, { split, family, store, group: 'db', only: ['t2.mem', 't3.io'], pointsPerSlice });
  assert.equal(run.version, dbVersion + 1);
  assert.deepEqual({ trained: run.trained, carried: run.carried }, { trained: 1, carried: 11 });
  assert.deepEqual(run.failed.map((f) => [f.id, f.code]), [['t3.io', 'MISSING_COLUMN']]);

  const afterward = await store.open('db');
  assert.equal(afterward.version, run.version);
  assert.deepEqual([...afterward.ids].sort(), [...before.ids].sort());
  for (const id of before.ids) {
    const old = before.get(id) as StoredModel;
    const now = afterward.get(id) as StoredModel;
    if (id === 't2.mem') {
      assert.ok(now.trainedAt >= old.trainedAt, `${id} retrained`);
      assert.deepEqual([...now.params], [...old.params], `${id}: the same data gives the same model`);
    } else {
      assert.deepEqual(now, old, `${id} carried unchanged`);
      assert.deepEqual(Buffer.from(now.params.buffer, now.params.byteOffset, now.params.byteLength), Buffer.from(old.params.buffer, old.params.byteOffset, old.params.byteLength));
    }
  }
});

test('file slices: Parquet and CSV on the cluster, each file scanned once per batch that reads it', async () => {
  const rows = files.flatMap((_, f) => ['cpu', 'mem', 'io'].map((metric) => ({ id: `f${f}.${metric}`, file: f === 2 ? 'file2.csv' : `file${f}.parquet`, column: metric, ...ranges })));
  writeSplit(join(dir, 'file-split.csv'), rows);
  const split = await readSplit(join(dir, 'file-split.csv'));
  const store = await ModelStore.open(join(dir, 'store'));
  const run = await trainMany(fixture.client, { split, family, store, group: 'files', pointsPerSlice });
  assert.deepEqual({ trained: run.trained, failed: run.failed }, { trained: 9, failed: [] });
  assert.equal(run.work.scans, planned(split).sourceReads);
  assert.equal(run.work.queries, 0);
  const group = await store.open('files');
  files.forEach((file, f) => {
    for (const metric of ['cpu', 'mem', 'io']) assertStored(group.get(`f${f}.${metric}`), file, metric, `f${f}.${metric}`);
  });
});
