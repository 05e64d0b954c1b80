// scoreMany, detectDrift and partial retraining on a real cluster (2 workers x 2 threads) over real Parquet,
// CSV and PostgreSQL sources: anomalies injected at known points are flagged, a slice without a model and a
// slice without data are reported while the rest score, each worker process reads the group once whatever
// its threads run, the frame composes (filter, compute, toParquet); a level shift injected into a known subset
// is found by ks and psi, recorded beside the version, and retraining just those leaves every other model's
// record byte-identical.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Client, LocalCluster } from '@loom/client';
import { ar, detectDrift, familySpec, ModelStore, readSplit, type Split, scoreFailures, scoreMany, scoreStats, trainMany, type StoredModel } from '../src/index.js';
import { planBatches } from '../src/train-many/plan-batches.js';
import { fleetSource, HOUR, START, writeCsv, writeParquet, writeSplit, writeTable, type FleetSource } from './train-many-fleet.js';
import { tempDir } from './store-helpers.js';

const url = process.env['LOOM_TEST_PG_URL'] ?? 'postgres://loom:loom@127.0.0.1:5432/loom_test';
const family = ar({ p: 3 });
const dir = tempDir('score-cluster');
const h = (hours: number): number => START + hours * HOUR;
const ranges = { train_from: h(0), train_to: h(192), test_from: h(192), test_to: h(240) };
const metrics = ['cpu', 'mem', 'io'];
const prefix = `smc_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const files = Array.from({ length: 4 }, (_, f) => fleetSource(`file${f}`, metrics, 240, 300 + f));
const tables = Array.from({ length: 2 }, (_, t) => fleetSource(`${prefix}_${t}`, metrics, 240, 400 + t));
/** Spikes injected into the test week: [source, metric, hour]. */
const spikes: Array<[FleetSource, string, number]> = [[files[0]!, 'cpu', 200], [files[1]!, 'io', 230], [tables[0]!, 'mem', 210]];
/** A level shift over the whole test week of these series (about 3 standard deviations of the noise). */
const shifted = new Set(['f2.cpu', 'f3.mem', 'f3.io']);
const fileOf = (f: number): string => (f % 2 === 0 ? `file${f}.parquet` : `file${f}.csv`);
const admin = new pg.Client({ connectionString: url });
let cluster: LocalCluster;
let client: Client;

before(async () => {
  for (const [source, metric, hour] of spikes) {
    const values = source.values.get(metric) as Float64Array;
    values[hour] = (values[hour] as number) + 25;
  }
  for (const id of shifted) {
    const [f, metric] = [Number(id[1]), id.slice(3)];
    const values = files[f]!.values.get(metric) as Float64Array;
    for (let t = 192; t < 240; t++) values[t] = (values[t] as number) + 4;
  }
  files.forEach((source, f) => (f % 2 === 0 ? writeParquet(join(dir, fileOf(f)), source) : writeCsv(join(dir, fileOf(f)), source)));
  await admin.connect();
  for (const table of tables) await writeTable(admin, table);
  cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 2, memoryLimit: '1GiB' });
  client = await Client.connect(cluster.address);
});
after(async () => {
  await client?.close();
  await cluster?.close();
  for (const table of tables) await admin.query(`DROP TABLE IF EXISTS ${table.name}`);
  await admin.end();
});

function flaggedAt(table: import('apache-arrow').Table): Set<string> {
  const flagged = new Set<string>();
  for (const row of table) if (row.anomaly) flagged.add(`${row.id}@${(Number(row.ts) - START) / HOUR}`);
  return flagged;
}

/** The sources the planned batches read, summed over the batches (as scoreMany plans them). */
function sourceReads(split: Split, pointsPerSlice: number, batchSeconds: number): number {
  const batches = planBatches(split, { family: familySpec(family), familyKey: 'score', timeColumn: 'ts', batchSeconds, pointsPerSlice });
  return batches.reduce((sum, batch) => sum + new Set(batch.slices.map((slice) => slice.sourceKey)).size, 0);
}

const fileRows = (): Array<Record<string, string | number>> => files.flatMap((_, f) => metrics.map((metric) => ({ id: `f${f}.${metric}`, file: fileOf(f), column: metric, ...ranges })));
const tableRows = (): Array<Record<string, string | number>> => tables.flatMap((table, t) => metrics.map((metric) => ({ id: `t${t}.${metric}`, database: 'metrics', table: table.name, column: metric, ...ranges })));

test('scoreMany: injected spikes flagged, missing model and bad data reported, the group read once per worker process', async () => {
  const store = await ModelStore.open(join(dir, 'store'));
  writeSplit(join(dir, 'train.csv'), fileRows());
  const trained = await trainMany(client, { split: await readSplit(join(dir, 'train.csv')), family, store, group: 'fleet' });
  assert.deepEqual(trained.failed, []);

  const rows = fileRows().map((row) => (row['id'] === 'f1.mem' ? { ...row, test_from: h(500), test_to: h(548) } : row));
  rows.push({ id: 'f0.never-trained', file: fileOf(0), column: 'cpu', ...ranges });
  writeSplit(join(dir, 'score.csv'), rows);
  const split = await readSplit(join(dir, 'score.csv'));
  const scores = scoreMany(client, { store, group: 'fleet', split, batchSeconds: 0.001 });
  assert.ok(scores.npartitions > 2, `${scores.npartitions} partitions`);
  const table = await scores.compute();

  assert.deepEqual(scoreFailures(table).map((f) => [f.id, f.code]).sort(), [['f0.never-trained', 'MISSING_MODEL'], ['f1.mem', 'EMPTY_RANGE']]);
  assert.equal(table.numRows, (split.size - 2) * 48, 'every other slice scored over its whole test week');
  assert.deepEqual(table.schema.fields.map((field) => field.name), ['id', 'ts', 'value', 'forecast', 'lower', 'upper', 'anomaly', 'score']);
  const flagged = flaggedAt(table);
  for (const [source, metric, hour] of spikes.filter(([source]) => files.includes(source))) {
    const id = `f${files.indexOf(source)}.${metric}`;
    assert.ok(flagged.has(`${id}@${hour}`), `spike of ${id} at hour ${hour} flagged (flagged: ${[...flagged].join(' ')})`);
  }
  for (const row of table) assert.equal(row.anomaly, row.score > 1, 'anomaly iff outside the band (score > 1)');

  const stats = scoreStats(table);
  assert.equal(stats.length, scores.npartitions);
  const byProcess = new Map<number, number>();
  for (const s of stats) byProcess.set(s.pid, (byProcess.get(s.pid) ?? 0) + (s.groupLoaded ? 1 : 0));
  assert.deepEqual([...byProcess.values()], [...byProcess.keys()].map(() => 1), `one group load per worker process: ${JSON.stringify(stats.map((s) => [s.pid, s.thread, s.groupLoaded]))}`);
  assert.equal(stats.reduce((sum, s) => sum + s.scans, 0), sourceReads(split, 720, 0.001), 'one scan per file per batch');

  // The frame composes: filter on the workers, compute; and writes through the DataFrame writers.
  const anomalies = await scores.filter((row: { anomaly: boolean }) => row.anomaly).compute(client);
  assert.equal(anomalies.numRows, [...table].filter((row) => row.anomaly).length);
  const written = await scores.toParquet(join(dir, 'scores'), { client });
  assert.equal(written.rows, table.numRows);
  assert.equal(readdirSync(join(dir, 'scores')).filter((name) => name.endsWith('.parquet')).length, scores.npartitions);
  // The failed slices come back with what the writer wrote, as they do with compute().
  assert.deepEqual(scoreFailures(written).map((f) => [f.id, f.code]).sort(), [['f0.never-trained', 'MISSING_MODEL'], ['f1.mem', 'EMPTY_RANGE']]);
  assert.equal(scoreStats(written).length, scores.npartitions);
  const csv = await scores.filter((row: { anomaly: boolean }) => row.anomaly).toCsv(join(dir, 'anomalies'), { client });
  assert.deepEqual(scoreFailures(csv).map((f) => f.id).sort(), ['f0.never-trained', 'f1.mem'], 'a filtered frame keeps its partitions\' reports');
});

test('scoreMany over PostgreSQL tables: one query per table per batch, the spike flagged', async () => {
  const store = await ModelStore.open(join(dir, 'store'));
  writeSplit(join(dir, 'db.csv'), tableRows());
  const split = await readSplit(join(dir, 'db.csv'), { connections: { metrics: url } });
  await trainMany(client, { split, family, store, group: 'db' });
  const table = await scoreMany(client, { store, group: 'db', split }).compute();
  assert.deepEqual(scoreFailures(table), []);
  assert.equal(table.numRows, split.size * 48);
  assert.ok(flaggedAt(table).has('t0.mem@210'), 'the spike in t0.mem flagged');
  assert.equal(scoreStats(table).reduce((sum, s) => sum + s.queries, 0), sourceReads(split, 720, 0.5), 'one query per table per batch');
});

test('detectDrift finds the shifted subset (ks and psi), records it, and retraining it leaves the others byte-identical', async () => {
  const store = await ModelStore.open(join(dir, 'store'));
  writeSplit(join(dir, 'drift.csv'), fileRows());
  const split = await readSplit(join(dir, 'drift.csv'));
  const trained = await trainMany(client, { split, family, store, group: 'drift' });
  for (const method of ['ks', 'psi'] as const) {
    const result = await detectDrift(client, { store, group: 'drift', split, method, pointsPerSlice: 20_000 });
    assert.deepEqual(new Set(result.drifted()), shifted, `${method}: drifted`);
    assert.deepEqual(result.failed, []);
  }
  const ph = await detectDrift(client, { store, group: 'drift', split, method: 'page-hinkley' });
  assert.equal(ph.tested, split.size);
  const records = await store.driftResults('drift');
  assert.deepEqual(records.map((r) => r.method), ['ks', 'psi', 'page-hinkley']);
  assert.deepEqual(new Set(records[0]!.drifted.map((d) => d.id)), shifted);
  assert.ok((records[0]!.options['perTestAlpha'] as number) < 0.05 / 11, 'Bonferroni across the group');

  const before = await store.open('drift', trained.version);
  // Retrain the drifted on data that includes the shift.
  writeSplit(join(dir, 'retrain.csv'), fileRows().map((row) => ({ ...row, train_from: h(48), train_to: h(240), test_from: h(240), test_to: h(240) })));
  const retrain = await trainMany(client, { split: await readSplit(join(dir, 'retrain.csv')), family, store, group: 'drift', only: [...shifted] });
  assert.deepEqual({ trained: retrain.trained, carried: retrain.carried }, { trained: shifted.size, carried: split.size - shifted.size });
  const afterward = await store.open('drift');
  for (const id of before.ids) {
    const old = before.get(id) as StoredModel;
    const now = afterward.get(id) as StoredModel;
    const bytes = (model: StoredModel): Buffer => Buffer.from(model.params.buffer, model.params.byteOffset, model.params.byteLength);
    if (shifted.has(id)) {
      assert.notDeepEqual(bytes(now), bytes(old), `${id} retrained`);
      assert.deepEqual(now.trainRange, { from: h(48), to: h(240) });
    } else {
      assert.deepEqual(now, old, `${id}: record unchanged`);
      assert.deepEqual(bytes(now), bytes(old), `${id}: params byte for byte`);
    }
  }
});
