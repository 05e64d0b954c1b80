// SQL partitions against the real PostgreSQL (LOOM_TEST_PG_URL; `node scripts/services.mjs` starts it). These
// tests fail, not skip, when the database is unreachable.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { concatTables, readSqlPartition, sqlBounds, type SqlOptions } from '../src/index.js';
import { rowsOf } from './helpers.js';

const url = process.env.LOOM_TEST_PG_URL ?? 'postgres://loom:loom@127.0.0.1:5432/loom_test';
const table = `loom_test_${randomUUID().replaceAll('-', '')}`;
const admin = new pg.Client({ connectionString: url });

before(async () => {
  await admin.connect();
  await admin.query(`CREATE TABLE ${table} (id int4 PRIMARY KEY, body text, label bool, score float8, big int8, price numeric, at timestamp, day date)`);
  // ids 1..5000 and 9001..14000: a gap in the middle, so some of the 8 partitions are empty.
  await admin.query(`INSERT INTO ${table}
    SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'body ' || g || ' ''q'' ✓' END, g % 3 = 0, g * 0.5, g::int8 * 1000000, g / 4.0,
           timestamp '2024-01-01 00:00:00' + g * interval '1 second', date '2024-01-01' + (g % 30)
    FROM (SELECT generate_series(1, 5000) AS g UNION ALL SELECT generate_series(9001, 14000)) s`);
});
after(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${table}`);
  await admin.end();
});

test('8 partitions together hold the table exactly, without overlap, empty ones included', async () => {
  const query = `SELECT * FROM ${table}`;
  const options: SqlOptions = { connection: url, indexColumn: 'id', npartitions: 8 };
  const bounds = await sqlBounds(query, options);
  assert.deepEqual(bounds, { min: 1, max: 14000, rows: 10000 });
  const parts = await Promise.all(Array.from({ length: 8 }, (_, i) => readSqlPartition(query, options, bounds, i)));
  assert.ok(parts.some((part) => part.numRows === 0), 'the id gap leaves an empty partition');
  for (const part of parts) {
    assert.deepEqual(part.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
      ['id:Int32', 'body:Utf8', 'label:Bool', 'score:Float64', 'big:Float64', 'price:Float64', 'at:Timestamp<MILLISECOND>', 'day:Date32<DAY>']);
  }
  const ids = parts.flatMap((part) => rowsOf(part).map((row) => row[0] as number));
  assert.equal(new Set(ids).size, ids.length, 'no row in two partitions');
  const all = rowsOf(concatTables(parts)).sort((a, b) => (a[0] as number) - (b[0] as number));
  const expected = (await admin.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id);
  assert.deepEqual(all.map((row) => row[0]), expected);
  const g = 9010;
  assert.deepEqual(all.find((row) => row[0] === g), [g, null, false, g * 0.5, g * 1e6, g / 4, Date.UTC(2024, 0, 1) + g * 1000, Date.UTC(2024, 0, 1 + (g % 30))]);
  assert.equal(all.find((row) => row[0] === 7)?.[1], "body 7 'q' ✓");
});

test('a query with its own filter, a float index and parameters never interpolated', async () => {
  const query = `SELECT id, score FROM ${table} WHERE id <= 100;`;
  const options: SqlOptions = { connection: url, indexColumn: 'score', npartitions: 3 };
  const bounds = await sqlBounds(query, options);
  assert.deepEqual(bounds, { min: 0.5, max: 50, rows: 100 });
  const parts = await Promise.all([0, 1, 2].map((i) => readSqlPartition(query, options, bounds, i)));
  assert.deepEqual(parts.map((p) => p.numRows).reduce((a, b) => a + b), 100);
  const odd = { connection: url, indexColumn: 'weird"name', npartitions: 1 };
  await assert.rejects(sqlBounds(query, odd), /column "weird"name" does not exist/);
});

test('an empty result gives an empty table with the schema; an unreachable database fails', async () => {
  const query = `SELECT id, body FROM ${table} WHERE false`;
  const options: SqlOptions = { connection: url, indexColumn: 'id', npartitions: 2 };
  const bounds = await sqlBounds(query, options);
  assert.equal(bounds.rows, 0);
  const part = await readSqlPartition(query, options, bounds, 1);
  assert.equal(part.numRows, 0);
  assert.deepEqual(part.schema.fields.map((f) => f.name), ['id', 'body']);
  await assert.rejects(sqlBounds('SELECT 1 AS id', { connection: 'postgres://loom:loom@127.0.0.1:1/none', indexColumn: 'id', npartitions: 1 }), /ECONNREFUSED/);
});
