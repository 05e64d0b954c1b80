// trainBatch, the task of trainMany, run in this process on real files and a real PostgreSQL
// (LOOM_TEST_PG_URL; `node scripts/run-tests.mjs` starts it): models equal to evaluate() on the same values,
// each source read once (one query per table, one scan per file), only the row groups a batch's ranges need,
// and every kind of bad slice reported with its reason while the rest of the batch trains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { ar, evaluateManyBatched, familySpec, loadFamily, lstm, readSplit, type Split } from '../src/index.js';
import { trainBatch } from '../src/tasks/index.js';
import { batchSpec } from '../src/train-many/batch-spec.js';
import type { BatchResult } from '../src/train-many/batch-wire.js';
import type { PlannedBatch } from '../src/train-many/plan-batches.js';
import { expectedModel, fleetSource, HOUR, START, writeCsv, writeParquet, writeSplit, writeTable, type FleetSource } from './train-many-fleet.js';
import { tempDir } from './store-helpers.js';

const family = ar({ p: 2 });
const url = process.env['LOOM_TEST_PG_URL'] ?? 'postgres://loom:loom@127.0.0.1:5432/loom_test';
const dir = tempDir('train-task');
const h = (hours: number): number => START + hours * HOUR;

/** All of a split's slices as one batch, grouped by source as planBatches groups them. */
function oneBatch(split: Split): PlannedBatch {
  return { key: 'batch-test', slices: split.sources().flatMap((group) => [...group.slices]), cost: 0 };
}

async function run(split: Split, connections: Record<string, string> = {}): Promise<{ result: BatchResult; row: (id: string) => number; batch: PlannedBatch }> {
  const batch = oneBatch(split);
  const spec = batchSpec(batch, { family: familySpec(family), familyKey: family.key(), timeColumn: split.timeColumn, connectionOf: (db) => connections[db] as string });
  const result = await trainBatch(spec);
  const rows = new Map(batch.slices.map((slice, i) => [slice.id, i]));
  return { result, batch, row: (id) => rows.get(id) as number };
}

function failureOf(result: BatchResult, row: number): string | undefined {
  const f = [...result.failedIndex].indexOf(row);
  return f < 0 ? undefined : `${result.failedCode[f]}: ${result.failedMessage[f]}`;
}

/** Row `row` of the result equals the model evaluate() fits on the same values (params bit for bit). */
function assertModel(result: BatchResult, row: number, source: FleetSource, metric: string, train: [number, number], test: [number, number]): void {
  const expected = expectedModel(family, source, metric, { from: train[0], to: train[1] }, { from: test[0], to: test[1] });
  const k = result.paramCount;
  assert.equal(result.ok[row], 1, `row ${row} trained (${failureOf(result, row)})`);
  assert.deepEqual([...result.params.subarray(row * k, (row + 1) * k)], [...expected.params], `params of row ${row}`);
  assert.equal(result.trainPoints[row], expected.metrics.trainPoints);
  assert.equal(result.testPoints[row], expected.metrics.testPoints);
  assert.equal(result.testRmse[row], expected.metrics.testRmse);
  assert.equal(result.anomalies[row], expected.metrics.anomalies);
}

test('file slices: Parquet and CSV read once each, models exact, bad slices isolated with their reasons', async () => {
  const wide = fleetSource('wide', ['cpu', 'mem', 'disk', 'flat'], 240, 1);
  (wide.values.get('disk') as Float64Array)[50] = NaN;
  (wide.values.get('flat') as Float64Array).fill(7);
  writeParquet(join(dir, 'wide.parquet'), wide, 50);
  const csv = fleetSource('csv', ['cpu', 'mem'], 240, 2);
  writeCsv(join(dir, 'metrics.csv'), csv);
  const single = fleetSource('single', ['value'], 240, 3);
  writeParquet(join(dir, 'single.parquet'), single);

  const full = { train_from: h(0), train_to: h(192), test_from: h(192), test_to: h(240) };
  const row = (id: string, file: string, column: string, ranges = full): Record<string, string | number> => ({ id, file, column, ...ranges });
  writeSplit(join(dir, 'files.csv'), [
    row('p-cpu', 'wide.parquet', 'cpu'),
    row('p-mem', 'wide.parquet', 'mem', { train_from: h(24), train_to: h(120), test_from: h(120), test_to: h(144) }),
    row('p-disk', 'wide.parquet', 'disk'),
    row('p-flat', 'wide.parquet', 'flat'),
    row('p-nope', 'wide.parquet', 'nope'),
    row('p-empty', 'wide.parquet', 'cpu', { train_from: h(300), train_to: h(400), test_from: h(400), test_to: h(410) }),
    row('p-short', 'wide.parquet', 'cpu', { train_from: h(0), train_to: h(5), test_from: h(5), test_to: h(10) }),
    row('p-unnamed', 'wide.parquet', ''),
    row('c-cpu', 'metrics.csv', 'cpu'),
    row('c-mem', 'metrics.csv', 'mem', { train_from: h(100), train_to: h(200), test_from: h(200), test_to: h(230) }),
    row('single', 'single.parquet', ''),
  ]);
  const { result, row: at } = await run(await readSplit(join(dir, 'files.csv')));

  assertModel(result, at('p-cpu'), wide, 'cpu', [h(0), h(192)], [h(192), h(240)]);
  assertModel(result, at('p-mem'), wide, 'mem', [h(24), h(120)], [h(120), h(144)]);
  assertModel(result, at('c-cpu'), csv, 'cpu', [h(0), h(192)], [h(192), h(240)]);
  assertModel(result, at('c-mem'), csv, 'mem', [h(100), h(200)], [h(200), h(230)]);
  assertModel(result, at('single'), single, 'value', [h(0), h(192)], [h(192), h(240)]);
  assert.match(failureOf(result, at('p-disk')) ?? '', /^NON_FINITE: /);
  assert.match(failureOf(result, at('p-flat')) ?? '', /^SINGULAR: /);
  assert.match(failureOf(result, at('p-nope')) ?? '', /^MISSING_COLUMN: .*wide\.parquet has no column "nope"/);
  assert.match(failureOf(result, at('p-empty')) ?? '', /^EMPTY_RANGE: no rows in the train range \[2024-01-13T12:00:00\.000Z, /);
  assert.match(failureOf(result, at('p-short')) ?? '', /^TOO_SHORT: /);
  assert.match(failureOf(result, at('p-unnamed')) ?? '', /^MISSING_COLUMN: .*has 4 value columns besides "ts"; the split must name one/);
  assert.equal(result.failedIndex.length, 6);
  assert.deepEqual({ scans: result.stats.scans, queries: result.stats.queries }, { scans: 3, queries: 0 });
});

test('a Parquet batch reads only the row groups its ranges need', async () => {
  const source = fleetSource('groups', ['cpu'], 500, 4);
  writeParquet(join(dir, 'groups.parquet'), source, 50);
  writeSplit(join(dir, 'groups.csv'), [{ id: 'g', file: 'groups.parquet', column: 'cpu', train_from: h(120), train_to: h(200), test_from: h(200), test_to: h(220) }]);
  const { result, row } = await run(await readSplit(join(dir, 'groups.csv')));
  assertModel(result, row('g'), source, 'cpu', [h(120), h(200)], [h(200), h(220)]);
  // Hours 120..219 lie in row groups 2, 3 and 4 (rows 100..249) of ten.
  assert.equal(result.stats.rows, 150);
});

test('a missing time column or a time column of the wrong kind fails the slices of that file only', async () => {
  const source = fleetSource('kinds', ['cpu'], 100, 5);
  writeParquet(join(dir, 'kinds.parquet'), source);
  writeSplit(join(dir, 'kinds.csv'), [
    { id: 'numbers', file: 'kinds.parquet', column: 'cpu', train_from: '0', train_to: '50', test_from: '50', test_to: '60' },
  ]);
  const numbers = await run(await readSplit(join(dir, 'kinds.csv')));
  assert.match(failureOf(numbers.result, 0) ?? '', /^BAD_TIME_COLUMN: the time column "ts" of .*kinds\.parquet is a timestamp, but the split's bounds are numbers/);
  const otherTime = await run(await readSplit(join(dir, 'kinds.csv'), { timeColumn: 'when' }));
  assert.match(failureOf(otherTime.result, 0) ?? '', /^BAD_TIME_COLUMN: .*kinds\.parquet has no time column "when"/);
});

test('database slices: one query per table, models exact, every bad slice isolated', async () => {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const prefix = `tm_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const a = fleetSource(`${prefix}_a`, ['cpu', 'mem'], 240, 11);
  const b = fleetSource(`${prefix}_b`, ['cpu'], 240, 12);
  const hours = fleetSource(`${prefix}_c`, ['cpu'], 240, 13);
  const numeric: FleetSource = { ...hours, times: Float64Array.from({ length: 240 }, (_, t) => t) };
  const wrongKind = fleetSource(`${prefix}_d`, ['cpu'], 240, 14);
  const numericD: FleetSource = { ...wrongKind, times: Float64Array.from({ length: 240 }, (_, t) => t) };
  try {
    await writeTable(admin, a);
    await writeTable(admin, b, 'timestamp');
    await admin.query(`ALTER TABLE ${b.name} ADD COLUMN note text DEFAULT 'x'`);
    await writeTable(admin, numeric, 'int8');
    await writeTable(admin, numericD, 'int8');
    const full = { train_from: h(0), train_to: h(192), test_from: h(192), test_to: h(240) };
    const row = (id: string, database: string, table: string, column: string, ranges: Record<string, string | number> = full) => ({ id, database, table, column, ...ranges });
    writeSplit(join(dir, 'db.csv'), [
      row('a-cpu', 'main', a.name, 'cpu'),
      row('a-mem', 'main', a.name, 'mem', { train_from: h(48), train_to: h(144), test_from: h(144), test_to: h(168) }),
      row('a-gone', 'main', a.name, 'gone'),
      row('b-cpu', 'main', b.name, 'cpu'),
      row('b-note', 'main', b.name, 'note'),
      row('c-cpu', 'main', numeric.name, 'cpu', { train_from: '0', train_to: '180', test_from: '180', test_to: '240' }),
      row('d-cpu', 'main', numericD.name, 'cpu'),
      row('x-cpu', 'down', a.name, 'cpu'),
      row('y-cpu', 'main', `${prefix}_missing`, 'cpu'),
    ]);
    const connections = { main: url, down: 'postgres://loom:loom@127.0.0.1:1/none' };
    const { result, row: at } = await run(await readSplit(join(dir, 'db.csv'), { connections }), connections);

    assertModel(result, at('a-cpu'), a, 'cpu', [h(0), h(192)], [h(192), h(240)]);
    assertModel(result, at('a-mem'), a, 'mem', [h(48), h(144)], [h(144), h(168)]);
    assertModel(result, at('b-cpu'), b, 'cpu', [h(0), h(192)], [h(192), h(240)]);
    assertModel(result, at('c-cpu'), numeric, 'cpu', [0, 180], [180, 240]);
    assert.match(failureOf(result, at('a-gone')) ?? '', /^MISSING_COLUMN: table tm_\w+_a of database main has no column "gone"/);
    assert.match(failureOf(result, at('b-note')) ?? '', /^NOT_NUMERIC: column "note" of table tm_\w+_b of database main is not numeric/);
    assert.match(failureOf(result, at('d-cpu')) ?? '', /^BAD_TIME_COLUMN: the split's bounds are timestamps, which the time column "ts" of table tm_\w+_d/);
    assert.match(failureOf(result, at('x-cpu')) ?? '', /^SOURCE_FAILED: cannot connect to database down: /);
    assert.match(failureOf(result, at('y-cpu')) ?? '', /^SOURCE_FAILED: table tm_\w+_missing of database main does not exist/);
    assert.equal(result.failedIndex.length, 5);
    // a: the query, the catalog lookup its missing column costs, the query again; b, c, d, the missing table: one each.
    assert.deepEqual({ queries: result.stats.queries, scans: result.stats.scans }, { queries: 7, scans: 0 });
  } finally {
    for (const table of [a, b, numeric, numericD]) await admin.query(`DROP TABLE IF EXISTS ${table.name}`);
    await admin.end();
  }
});

test('lstm through trainBatch: the models evaluateManyBatched gives on the same slices', async () => {
  const lstmFamily = lstm({ window: 4, hidden: 2, steps: 20, batch: 8 });
  const sources = [fleetSource('l0', ['a', 'b'], 120, 21), fleetSource('l1', ['a'], 120, 22)];
  for (const source of sources) writeParquet(join(dir, `${source.name}.parquet`), source);
  writeSplit(join(dir, 'lstm.csv'), [
    { id: 'l0.a', file: 'l0.parquet', column: 'a', train_from: h(0), train_to: h(100), test_from: h(100), test_to: h(120) },
    { id: 'l0.b', file: 'l0.parquet', column: 'b', train_from: h(0), train_to: h(100), test_from: h(100), test_to: h(120) },
    { id: 'l1.a', file: 'l1.parquet', column: 'a', train_from: h(0), train_to: h(100), test_from: h(100), test_to: h(120) },
  ]);
  const split = await readSplit(join(dir, 'lstm.csv'));
  const batch = oneBatch(split);
  const result = await trainBatch(batchSpec(batch, { family: familySpec(lstmFamily), familyKey: lstmFamily.key(), timeColumn: 'ts', connectionOf: () => '' }));
  assert.deepEqual([...result.ok], [1, 1, 1]);
  const slices = batch.slices.map((slice) => {
    const source = sources.find((s) => slice.id.startsWith(s.name)) as FleetSource;
    const values = source.values.get(slice.column as string) as Float64Array;
    return { train: values.subarray(0, 100), test: values.subarray(100, 120), trainTimes: source.times.subarray(0, 100), testTimes: source.times.subarray(100, 120) };
  });
  const expected = await evaluateManyBatched(lstmFamily, slices);
  assert.deepEqual([...result.params], [...expected.params]);
  assert.deepEqual([...result.testRmse], [...expected.testRmse]);
});

test('a family with a batched trainer gets the slices of every source of the batch in one call', async () => {
  const module = fileURLToPath(new URL('./train-many-fixtures/counting-batched.js', import.meta.url));
  const counting = await loadFamily({ module, export: 'countingBatched', params: { p: 2 } });
  const { fitBatchCalls } = (await import(pathToFileURL(module).href)) as { fitBatchCalls: number[] };
  const sources = [0, 1, 2].map((n) => fleetSource(`cb${n}`, ['a', 'b'], 100, 30 + n));
  for (const source of sources) writeParquet(join(dir, `${source.name}.parquet`), source);
  writeSplit(join(dir, 'counting.csv'), sources.flatMap((source) => ['a', 'b', 'gone'].map((column) => ({
    id: `${source.name}.${column}`, file: `${source.name}.parquet`, column, train_from: h(0), train_to: h(80), test_from: h(80), test_to: h(100),
  }))));
  const split = await readSplit(join(dir, 'counting.csv'));
  const result = await trainBatch(batchSpec(oneBatch(split), { family: familySpec(counting), familyKey: counting.key(), timeColumn: 'ts', connectionOf: () => '' }));
  assert.deepEqual(fitBatchCalls, [6], 'one call with the six slices that could be read');
  assert.equal(result.failedIndex.length, 3);
});
