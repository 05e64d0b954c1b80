// The DataFrame writers on a real cluster: toParquet and toCsv read back through readParquet and readCsv, the
// typed errors the client raises before any task runs, and toSql into the real PostgreSQL with a worker
// SIGKILLed in the middle of its COPY (found in pg_stat_activity by the application name the task sets): the
// scheduler reruns the partition elsewhere and the table ends with every row exactly once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PartitionError } from '@loom/partitions';
import { Client, LocalCluster, dataframe as dd } from '../src/index.js';

const url = process.env.LOOM_TEST_PG_URL ?? 'postgres://loom:loom@127.0.0.1:5432/loom_test';
const dir = mkdtempSync(join(tmpdir(), 'loom-writers-'));
let cluster: LocalCluster;
let client: Client;
const admin = new pg.Client({ connectionString: url });
const table = `loom_writers_${Date.now().toString(36)}`;
/** Rows per input file: enough for a COPY to be seen under way and killed; the file writers get smaller ones. */
const ROWS_PER_FILE = 150_000;
const SMALL_ROWS_PER_FILE = 5_000;

function writeInput(prefix: string, rows: number): void {
  for (const f of [0, 1]) {
    const lines = ['id,x,label'];
    for (let i = 0; i < rows; i++) {
      const id = f * rows + i;
      lines.push(`${id},${id % 11 === 0 ? '' : id / 4},${id % 13 === 0 ? '' : `"row ${id}, ""quoted"""`}`);
    }
    writeFileSync(join(dir, `${prefix}-${f}.csv`), `${lines.join('\n')}\n`);
  }
}

before(async () => {
  cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, memoryLimit: '1GiB' });
  client = await Client.connect(cluster.address);
  await admin.connect();
  writeInput('in', ROWS_PER_FILE);
  writeInput('small', SMALL_ROWS_PER_FILE);
});
after(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${table}`);
  await admin.query(`DROP TABLE IF EXISTS ${table}_tagged`);
  await admin.end();
  await client?.close();
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

const input = (prefix = 'in') => dd.readCsv(join(dir, `${prefix}-*.csv`));

test('toParquet and toCsv write one file per partition that readParquet and readCsv read back', async () => {
  const frame = input('small');
  const expected = await frame.compute(client);
  const parquet = await frame.toParquet(join(dir, 'out-parquet'), { client });
  assert.equal(parquet.rows, 2 * SMALL_ROWS_PER_FILE);
  assert.deepEqual(parquet.partitions.map((p) => p.path?.slice(-18)), ['part-00000.parquet', 'part-00001.parquet']);
  const fromParquet = await dd.readParquet(join(dir, 'out-parquet')).compute(client);
  assert.deepEqual(fromParquet.getChild('id')?.toArray(), expected.getChild('id')?.toArray());
  assert.deepEqual([...(fromParquet.getChild('label') ?? [])], [...(expected.getChild('label') ?? [])]);

  const csv = await frame.toCsv(join(dir, 'out-csv'), { client });
  assert.equal(csv.rows, 2 * SMALL_ROWS_PER_FILE);
  const fromCsv = await dd.readCsv(join(dir, 'out-csv', '*.csv')).compute(client);
  assert.deepEqual([...(fromCsv.getChild('x') ?? [])], [...(expected.getChild('x') ?? [])]);
  assert.deepEqual([...(fromCsv.getChild('label') ?? [])], [...(expected.getChild('label') ?? [])]);

  await assert.rejects(frame.toParquet(join(dir, 'out-parquet'), { client }), (error: unknown) => error instanceof PartitionError && error.code === 'WRITE_TARGET_EXISTS');
  const again = await frame.select(['id']).repartition({ npartitions: 1 }).toParquet(join(dir, 'out-parquet'), { client, overwrite: true });
  assert.equal(again.partitions.length, 1);
  assert.deepEqual(readdirSync(join(dir, 'out-parquet')), ['part-00000.parquet'], 'the overwrite removed the second old file');
});

test('toSql: a worker SIGKILLed mid-COPY leaves every row in the table exactly once', async () => {
  const writeId = `kill${Date.now().toString(36)}`;
  const write = input().toSql(table, { connection: url, create: true, writeId, client });
  let killed: { pid: number; copied: number } | undefined;
  const deadline = Date.now() + 60_000;
  while (killed === undefined && Date.now() < deadline) {
    const copying = await admin.query<{ application_name: string; tuples: string }>(
      `SELECT a.application_name, p.tuples_processed::text AS tuples FROM pg_stat_progress_copy p JOIN pg_stat_activity a ON a.pid = p.pid
       WHERE a.application_name LIKE $1 AND p.tuples_processed > 0`, [`loom toSql ${writeId} partition %`]);
    const row = copying.rows[0];
    if (row !== undefined) {
      const pid = Number(/ pid (\d+)$/.exec(row.application_name)?.[1]);
      process.kill(pid, 'SIGKILL');
      killed = { pid, copied: Number(row.tuples) };
    } else {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  assert.ok(killed !== undefined, 'a COPY was seen under way and its worker killed');
  assert.ok(killed.copied < ROWS_PER_FILE, `killed after ${killed.copied} of ${ROWS_PER_FILE} rows`);
  const summary = await write;
  assert.equal(summary.rows, 2 * ROWS_PER_FILE);
  const counts = await admin.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, count(label)::int AS labels FROM ${table}`);
  const labels = 2 * ROWS_PER_FILE - Math.ceil((2 * ROWS_PER_FILE) / 13);
  assert.deepEqual(counts.rows[0], { n: 2 * ROWS_PER_FILE, d: 2 * ROWS_PER_FILE, labels });
  const staging = await admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE $1`, [`loom_stage_${writeId}%`]);
  assert.equal(staging.rows[0].n, 0, 'no staging table is left');
  const rerun = await input().toSql(table, { connection: url, ifExists: 'append', writeId, client });
  assert.deepEqual({ rows: rerun.rows, alreadyPublished: rerun.alreadyPublished }, { rows: 2 * ROWS_PER_FILE, alreadyPublished: true });
  await assert.rejects(input().toSql(table, { connection: url, client }), (error: unknown) => error instanceof PartitionError && error.code === 'WRITE_TARGET_EXISTS');
});

test('every writer hands back the schema metadata its partitions carry, beside what it wrote', async () => {
  // What a producer reports that is not rows (scoreMany lists the slices it could not score here).
  const tagged = input('small').mapPartitions((part: import('apache-arrow').Table) => {
    part.schema.metadata.set('loom.test.report', JSON.stringify({ rows: part.numRows }));
    return part;
  });
  const reports = (summary: { partitions: { metadata?: Record<string, string> }[] }) =>
    summary.partitions.map((p) => JSON.parse(p.metadata?.['loom.test.report'] ?? 'null') as unknown);
  const expected = [{ rows: SMALL_ROWS_PER_FILE }, { rows: SMALL_ROWS_PER_FILE }];
  assert.deepEqual(reports(await tagged.toParquet(join(dir, 'tagged-parquet'), { client })), expected);
  assert.deepEqual(reports(await tagged.toCsv(join(dir, 'tagged-csv'), { client })), expected);
  assert.deepEqual(reports(await tagged.toSql(`${table}_tagged`, { connection: url, create: true, client })), expected);
  const plain = await input('small').toParquet(join(dir, 'plain-parquet'), { client });
  assert.ok(plain.partitions.every((p) => p.metadata === undefined || !('loom.test.report' in p.metadata)));
});
