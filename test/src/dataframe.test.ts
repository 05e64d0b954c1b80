// DataFrames on a real 2-worker cluster: CSV, Parquet, PostgreSQL and local Arrow sources, transformations,
// reductions, persist, bad rows and schema mismatches, each checked against the data the test wrote.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataframe as dd, isLoomError, type LoomError } from '@loom/client';
import { useCluster } from './cluster-fixture.js';

const fixture = useCluster();
const PG_URL = process.env['LOOM_TEST_PG_URL'] ?? 'postgres://loom:loom@127.0.0.1:5432/loom_test';

const FILES = 4;
const ROWS_PER_FILE = 300;

interface Expected {
  id: number[];
  name: string[];
  score: number[];
}

let dir: string;
const expected: Expected = { id: [], name: [], score: [] };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'loom-df-'));
  mkdirSync(join(dir, 'csv'));
  for (let file = 0; file < FILES; file++) {
    let text = 'id,name,score\n';
    for (let row = 0; row < ROWS_PER_FILE; row++) {
      const id = file * ROWS_PER_FILE + row;
      const name = `user ${id}`;
      const score = (id * 7) % 50;
      text += `${id},${name},${score}\n`;
      expected.id.push(id);
      expected.name.push(name);
      expected.score.push(score);
    }
    writeFileSync(join(dir, 'csv', `part-${file}.csv`), text);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

function column(table: dd.arrow.Table, name: string): unknown[] {
  const vector = table.getChild(name);
  assert.ok(vector, `column '${name}' exists`);
  return [...vector].map((value) => (typeof value === 'bigint' ? Number(value) : value));
}

const csvPattern = () => join(dir, 'csv', '*.csv');

test('readCsv with a small blocksize: many partitions that compute to exactly the files', async () => {
  const df = dd.readCsv(csvPattern(), { blocksize: '2KiB' });
  assert.ok(df.npartitions >= FILES * 2, `several blocks per file (got ${df.npartitions})`);
  const table = await df.compute(fixture.client);
  assert.equal(table.numRows, FILES * ROWS_PER_FILE);
  assert.deepEqual(
    table.schema.fields.map((field) => field.name),
    ['id', 'name', 'score'],
  );
  assert.deepEqual(column(table, 'id'), expected.id);
  assert.deepEqual(column(table, 'name'), expected.name);
  assert.deepEqual(column(table, 'score'), expected.score);
});

test('filter, select, assign, mapPartitions, head and count', async () => {
  const df = dd.readCsv(csvPattern(), { blocksize: '3KiB' });
  const shaped = df
    .filter((row: { score: number }) => row.score >= 40)
    .select(['id', 'score'])
    .assign({ double: (row: { score: number }) => row.score * 2 });
  const table = await shaped.compute();
  const keep = expected.id.map((_, i) => i).filter((i) => (expected.score[i] as number) >= 40);
  assert.deepEqual(table.schema.fields.map((field) => field.name), ['id', 'score', 'double']);
  assert.deepEqual(column(table, 'id'), keep.map((i) => expected.id[i]));
  assert.deepEqual(column(table, 'double'), keep.map((i) => (expected.score[i] as number) * 2));

  assert.equal(await df.count().compute(), FILES * ROWS_PER_FILE);
  assert.equal(await shaped.count().compute(), keep.length);

  const head = await df.head(5).compute();
  assert.deepEqual(column(head, 'id'), expected.id.slice(0, 5));
  // More rows than the first partitions hold: head keeps reading partitions until it has them.
  const longHead = await df.head(ROWS_PER_FILE + 10).compute();
  assert.deepEqual(column(longHead, 'id'), expected.id.slice(0, ROWS_PER_FILE + 10));

  const firstRows = await df.mapPartitions((part, n: number) => part.slice(0, n), { args: [1] }).compute();
  assert.equal(firstRows.numRows, df.npartitions);
  assert.equal(column(firstRows, 'id')[0], 0);
});

test('repartition to fewer and to more partitions keeps every row in order', async () => {
  const df = dd.readCsv(csvPattern(), { blocksize: '2KiB' });
  const fewer = df.repartition({ npartitions: 3 });
  const more = df.repartition({ npartitions: df.npartitions * 2 + 1 });
  assert.equal(fewer.npartitions, 3);
  assert.equal(more.npartitions, df.npartitions * 2 + 1);
  assert.deepEqual(column(await fewer.compute(), 'id'), expected.id);
  assert.deepEqual(column(await more.compute(), 'id'), expected.id);
  assert.equal(await more.count().compute(), expected.id.length);
});

test('fromArrow splits a local table; partitions with different schemas fail naming both', async () => {
  const local = dd.arrow.tableFromArrays({
    x: Float64Array.from({ length: 101 }, (_, i) => i / 2),
    label: Array.from({ length: 101 }, (_, i) => `l${i % 3}`),
  });
  const df = dd.fromArrow(local, { npartitions: 4 });
  assert.equal(df.npartitions, 4);
  const back = await df.compute();
  assert.deepEqual(column(back, 'x'), column(local, 'x'));
  assert.deepEqual(column(back, 'label'), column(local, 'label'));

  const other = dd.fromArrow(dd.arrow.tableFromArrays({ y: Int32Array.of(1, 2, 3) }));
  await assert.rejects(dd.concat([df, other]).compute(), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.match(error.message, /\{ x: Float64, label: Dictionary<Int32, Utf8> \}/);
    assert.match(error.message, /\{ y: Int32 \}/);
    assert.match(error.message, /table 4/, 'the index is the partition that differs');
    return true;
  });
});

test('readSql: 8 partitions over 10,000 PostgreSQL rows', async () => {
  const name = `emails_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const psql = (sql: string) => execFileSync('psql', [PG_URL, '-v', 'ON_ERROR_STOP=1', '-qtA', '-c', sql], { encoding: 'utf8' });
  psql(
    `CREATE TABLE ${name} (id integer PRIMARY KEY, body text NOT NULL, label boolean NOT NULL);` +
      `INSERT INTO ${name} SELECT g, 'body ' || g, g % 3 = 0 FROM generate_series(1, 10000) g;`,
  );
  try {
    const df = dd.readSql(`SELECT id, body, label FROM ${name}`, { connection: PG_URL, indexColumn: 'id', npartitions: 8 });
    assert.equal(df.npartitions, 8);
    const table = await df.compute();
    assert.equal(table.numRows, 10_000);
    const ids = (column(table, 'id') as number[]).slice().sort((a, b) => a - b);
    assert.deepEqual(ids, Array.from({ length: 10_000 }, (_, i) => i + 1));
    const bodies = column(table, 'body') as string[];
    const labels = column(table, 'label') as boolean[];
    const byId = new Map((column(table, 'id') as number[]).map((id, i) => [id, [bodies[i], labels[i]]]));
    assert.deepEqual(byId.get(9999), ['body 9999', true]);
    assert.equal(await df.filter((row: { label: boolean }) => row.label).count().compute(), 3333);
  } finally {
    psql(`DROP TABLE IF EXISTS ${name}`);
  }
});

test("bad CSV rows: 'error' names file, line and reason; 'skip' reports how many were dropped", async () => {
  const badDir = join(dir, 'bad');
  mkdirSync(badDir);
  writeFileSync(join(badDir, 'good.csv'), 'id,name,score\n1,a,10\n2,b,20\n');
  writeFileSync(join(badDir, 'broken.csv'), 'id,name,score\n3,c,30\n4,d,40,extra\n5,e,50\n6,f\n7,g,70\n');
  const pattern = join(badDir, '*.csv');

  await assert.rejects(dd.readCsv(pattern, { onBadLines: 'error' }).compute(), (error: unknown) => {
    assert.ok(isLoomError(error), 'a LoomError from the worker');
    const message = (error as LoomError).message;
    assert.match(message, /broken\.csv/);
    assert.match(message, /line 3\b/);
    assert.match(message, /field/i);
    return true;
  });

  const kept = await dd.readCsv(pattern, { onBadLines: 'skip' }).compute();
  assert.deepEqual(column(kept, 'id'), [3, 5, 7, 1, 2], 'files in sorted order: broken.csv, then good.csv');
  assert.equal(kept.schema.metadata.get(dd.SKIPPED_ROWS_KEY), '2');
  // Split into more partitions than blocks, the count is still reported once, not once per piece.
  const split = await dd.readCsv(pattern, { onBadLines: 'skip' }).repartition({ npartitions: 5 }).compute();
  assert.deepEqual(column(split, 'id'), [3, 5, 7, 1, 2]);
  assert.equal(split.schema.metadata.get(dd.SKIPPED_ROWS_KEY), '2');
});

test('a CSV quote never closed fails count() naming the file, line and byte where it opens, also under skip', async () => {
  const unclosedDir = join(dir, 'unclosed');
  mkdirSync(unclosedDir);
  // Read as two rows (the second swallowing the rest) this once counted 2; 16-byte blocks put a boundary inside the quote.
  writeFileSync(join(unclosedDir, 'open.csv'), 'id,v\n1,2\n2,"unterminated\n3,4\n');
  for (const onBadLines of ['error', 'skip'] as const) {
    await assert.rejects(dd.readCsv(join(unclosedDir, '*.csv'), { onBadLines, blocksize: 16 }).count().compute(), (error: unknown) => {
      assert.ok(isLoomError(error), 'a LoomError from the worker');
      assert.match((error as LoomError).message, /open\.csv line 3 \(byte 11\): quoted field never closed/);
      assert.equal((error as LoomError).remoteCode, 'CSV_BAD_LINE', 'the PartitionError\'s own code');
      return true;
    });
  }
});

test('persist keeps partitions on the workers: counting twice reads nothing again', async () => {
  const copyDir = join(dir, 'persist');
  mkdirSync(copyDir);
  for (let file = 0; file < 2; file++) {
    writeFileSync(join(copyDir, `p${file}.csv`), `id,v\n${Array.from({ length: 200 }, (_, i) => `${file * 200 + i},${i}`).join('\n')}\n`);
  }
  const df = dd.readCsv(join(copyDir, '*.csv'), { blocksize: '1KiB' });
  const kept = await df.persist();
  assert.ok(kept.persisted);
  assert.equal(kept.npartitions, df.npartitions);
  assert.equal(await kept.count().compute(), 400);
  // The files are gone: any re-read would fail, so these counts can only come from the persisted partitions.
  rmSync(copyDir, { recursive: true });
  assert.equal(await kept.count().compute(), 400);
  assert.equal(await kept.filter((row: { v: number }) => row.v < 10).count().compute(), 20);
  assert.deepEqual(column(await kept.compute(), 'id'), Array.from({ length: 400 }, (_, i) => i));
  kept.release();
  await assert.rejects(df.count().compute(), (error: unknown) => isLoomError(error), 'the plain frame reads the files again');
});
