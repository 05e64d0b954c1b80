// toSql's two halves against the real PostgreSQL (LOOM_TEST_PG_URL; scripts/run-tests.mjs starts it): every
// type through COPY into staging tables and a created table, exactly-once publish (a retried partition, a
// publish run twice), and the typed errors: table exists with 'fail', missing without create, schema mismatch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Bool, DateDay, Float64, Int32, Int64, Table, Timestamp, TimestampMillisecond, TimeUnit, Utf8, Binary, vectorFromArray } from 'apache-arrow';
import { copySqlPartition, newWriteId, PartitionError, prepareSqlWrite, publishSqlWrite, type SqlWriteTarget } from '../src/index.js';

const url = process.env.LOOM_TEST_PG_URL ?? 'postgres://loom:loom@127.0.0.1:5432/loom_test';
const schema = `loom_write_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const admin = new pg.Client({ connectionString: url });

before(async () => {
  await admin.connect();
  await admin.query(`SET TIME ZONE 'UTC'`);
  await admin.query(`CREATE SCHEMA ${schema}`);
});
after(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

function target(table: string, writeId = newWriteId()): SqlWriteTarget {
  return { connection: url, schema, table, writeId };
}

function sample(from: number, rows: number): Table {
  const ids = Array.from({ length: rows }, (_, i) => from + i);
  return new Table({
    id: vectorFromArray(ids, new Int32()),
    big: vectorFromArray(ids.map((i) => (i % 5 === 0 ? null : BigInt(i) * 10n ** 15n)), new Int64()),
    x: vectorFromArray(ids.map((i) => (i % 7 === 0 ? null : i === 3 ? Number.NaN : i / 3)), new Float64()),
    flag: vectorFromArray(ids.map((i) => (i % 4 === 0 ? null : i % 2 === 0)), new Bool()),
    label: vectorFromArray(ids.map((i) => (i % 6 === 0 ? null : i === 1 ? 'tab\there\nnew "q" \\ ✓' : i === 2 ? '' : `id ${i}`)), new Utf8()),
    bytes: vectorFromArray(ids.map((i) => (i % 8 === 0 ? null : new Uint8Array([i & 255, 0, 92]))), new Binary()),
    day: vectorFromArray(ids.map((i) => (i % 9 === 0 ? null : new Date(Date.UTC(2024, 0, 1 + i)))), new DateDay()),
    at: vectorFromArray(ids.map((i) => (i % 10 === 0 ? null : Date.UTC(2024, 0, 1) + i * 1001)), new TimestampMillisecond()),
    atUtc: vectorFromArray(ids.map((i) => Date.UTC(2024, 5, 1) + i), new Timestamp(TimeUnit.MICROSECOND, 'UTC')),
  });
}


test('COPY of every type into staging, then one publish creates the table and moves the rows', async () => {
  const write = target('scores');
  assert.equal(await prepareSqlWrite(write, { create: true }, undefined), undefined);
  const parts = [sample(0, 40), sample(40, 0), sample(40, 25)];
  const staged = await Promise.all(parts.map((part, i) => copySqlPartition(part, write, i)));
  assert.deepEqual(staged.map((s) => s.rows), [40, 0, 25]);
  assert.deepEqual(staged[0]?.columns.map((c) => `${c.name} ${c.type}`), [
    'id integer', 'big bigint', 'x double precision', 'flag boolean', 'label text', 'bytes bytea', 'day date',
    'at timestamp without time zone', 'atUtc timestamp with time zone',
  ]);
  assert.equal(await publishSqlWrite(write, { create: true }, staged, undefined), 65);
  const columns = await admin.query(`SELECT attname, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = '${schema}.scores'::regclass AND attnum > 0 ORDER BY attnum`);
  assert.equal(columns.rows.length, 9);
  const result = await admin.query({ text: `SELECT id, big::text, x, flag, label, encode(bytes, 'hex'), day::text, extract(epoch from at) * 1000, extract(epoch from "atUtc") * 1000 FROM ${schema}.scores ORDER BY id`, rowMode: 'array' });
  assert.equal(result.rows.length, 65);
  const expected = [sample(0, 40), sample(40, 25)].flatMap((part) => part.toArray().map((row) => {
    const r = row.toJSON() as Record<string, unknown>;
    return [r.id, r.big === null ? null : String(r.big), r.x, r.flag, r.label, r.bytes === null ? null : Buffer.from(r.bytes as Uint8Array).toString('hex'),
      r.day === null ? null : new Date(r.day as number).toISOString().slice(0, 10), r.at === null ? null : String(r.at), String(r.atUtc)];
  }));
  const got = result.rows.map((row: unknown[]) => row.map((v, c) => (c >= 7 && v !== null ? String(Number(v)) : v)));
  assert.deepEqual(got, expected);
  const left = await admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'loom_stage_%'`, [schema]);
  assert.equal(left.rows[0].n, 0, 'the staging tables are dropped');
});

test('a partition written twice (a retry) is staged once; a publish run again adds nothing', async () => {
  const write = target('retried');
  const first = await copySqlPartition(sample(0, 30), write, 0);
  await copySqlPartition(sample(0, 30), write, 0); // the retry of a task whose first attempt committed
  const other = await copySqlPartition(sample(30, 10), write, 1);
  assert.equal(await publishSqlWrite(write, { create: true }, [first, other], undefined), 40);
  assert.equal(await publishSqlWrite(write, { create: true }, [first, other], undefined), 40, 'the second publish finds its record');
  await copySqlPartition(sample(0, 30), write, 0); // a late attempt after the publish stages nothing
  const count = await admin.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM ${schema}.retried`);
  assert.deepEqual(count.rows[0], { n: 40, d: 40 });
  assert.equal(await prepareSqlWrite(write, {}, undefined), 40, 'prepare of a published write id reports it');
  const left = await admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'loom_stage_%'`, [schema]);
  assert.equal(left.rows[0].n, 0);
});

test('ifExists: fail refuses an existing table, append adds, replace swaps; a missing table needs create', async () => {
  await admin.query(`CREATE TABLE ${schema}.existing (id bigint, x numeric, label varchar(40), extra text)`);
  const isCode = (code: string, pattern: RegExp) => (error: unknown) => error instanceof PartitionError && error.code === code && pattern.test(error.message);
  await assert.rejects(prepareSqlWrite(target('existing'), {}, undefined), isCode('WRITE_TARGET_EXISTS', /"existing" already exists/));
  await assert.rejects(prepareSqlWrite(target('absent'), { ifExists: 'append' }, undefined), isCode('WRITE_TABLE_MISSING', /"absent" does not exist; pass create: true/));

  const narrow = new Table({ id: vectorFromArray([1, 2], new Int32()), x: vectorFromArray([0.5, 1.5], new Float64()), label: vectorFromArray(['a', null], new Utf8()) });
  const append = target('existing');
  const staged = await copySqlPartition(narrow, append, 0);
  assert.equal(await publishSqlWrite(append, { ifExists: 'append' }, [staged], undefined), 2, 'int into bigint, float into numeric, text into varchar');
  const rows = await admin.query(`SELECT id::int, x::float8, label, extra FROM ${schema}.existing ORDER BY id`);
  assert.deepEqual(rows.rows, [{ id: 1, x: 0.5, label: 'a', extra: null }, { id: 2, x: 1.5, label: null, extra: null }]);

  const wrong = new Table({ id: vectorFromArray(['one'], new Utf8()) });
  const mismatch = target('existing');
  const bad = await copySqlPartition(wrong, mismatch, 0);
  await assert.rejects(publishSqlWrite(mismatch, { ifExists: 'append' }, [bad], undefined), isCode('SCHEMA_MISMATCH', /column "id" is text in the DataFrame but bigint in table/));
  const missingColumn = await copySqlPartition(new Table({ nope: vectorFromArray([1], new Int32()) }), target('existing'), 0);
  await assert.rejects(prepareSqlWrite(target('existing'), { ifExists: 'append' }, missingColumn.columns), isCode('SCHEMA_MISMATCH', /has no column "nope"/));
  const stagingLeft = await admin.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename LIKE $2`, [schema, `loom_stage_${mismatch.writeId}%`]);
  assert.equal(stagingLeft.rows[0].n, 0, 'a failed publish drops its staging tables');
  assert.equal((await admin.query(`SELECT count(*)::int AS n FROM ${schema}.existing`)).rows[0].n, 2, 'and adds nothing');

  const replace = target('existing');
  const replaced = await copySqlPartition(narrow, replace, 0);
  assert.equal(await publishSqlWrite(replace, { ifExists: 'replace' }, [replaced], undefined), 2);
  const types = await admin.query(`SELECT attname, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = '${schema}.existing'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`);
  assert.deepEqual(types.rows.map((r) => `${r.attname} ${r.t}`), ['id integer', 'x double precision', 'label text'], 'replaced by the DataFrame\'s schema');
});
