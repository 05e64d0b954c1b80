// dd.readSnowflake on a real cluster against the local Snowflake protocol emulator: partitions read in parallel
// on the workers as disjoint row ranges of one query's result, and a worker SIGKILLed mid-read (its partitions
// are read again from the same query id: the query itself runs once). A live test runs against a real account
// when SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and SNOWFLAKE_PASSWORD are set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataframe as dd } from '@loom/client';
import { SnowflakeEmulator, type WireTable } from '@loom/snowflake-emulator';
import { useCluster } from './cluster-fixture.js';

const fixture = useCluster({ workers: 2 });
const ROWS = 3000;

const messages: WireTable = {
  rowCount: ROWS,
  columns: [
    { name: 'ID', type: 'fixed', precision: 38, scale: 0 },
    { name: 'BODY', type: 'text' },
    { name: 'SCORE', type: 'fixed', precision: 10, scale: 3 },
  ],
  row: (i) => [String(i), `message ${i} ${'x'.repeat(i % 17)}`, i % 9 === 0 ? null : `${Math.floor(i / 7)}.${String(i % 1000).padStart(3, '0')}`],
};

test('partitions are disjoint ranges read in parallel; a worker killed mid-read is re-read from the same query id', async () => {
  const emulator = await new SnowflakeEmulator({ tables: { MESSAGES: messages }, inlineRows: 50, chunkRows: 100, chunkDelayMs: 40 }).start();
  try {
    const connection = { ...emulator.connectionOptions(), username: 'loom', password: 'loom-secret' };
    const df = await dd.readSnowflake('SELECT * FROM MESSAGES', { connection, npartitions: 6, lowercaseNames: true });
    assert.equal(df.npartitions, 6);
    assert.deepEqual(df.meta?.fields.map((field) => field.name), ['id', 'body', 'score']);
    const downloadsAtPlan = emulator.stats.chunkDownloads;
    const computed = df.compute();
    // Kill a worker once the partitions are being read.
    while (emulator.stats.chunkDownloads < downloadsAtPlan + 4) await new Promise((resolve) => setTimeout(resolve, 10));
    fixture.cluster.killWorker(0, 'SIGKILL');
    const table = await computed;
    assert.equal(table.numRows, ROWS);
    const ids = table.getChild('id')!.toArray() as BigInt64Array;
    ids.forEach((id, i) => assert.equal(id, BigInt(i), `row ${i}: each row once, in order`));
    assert.equal(table.getChild('body')!.get(2999), `message 2999 ${'x'.repeat(2999 % 17)}`);
    assert.equal(table.getChild('score')!.get(9), null);
    assert.equal(emulator.stats.queriesSubmitted, 1, 'the query ran once; partitions read its result by id');
  } finally {
    await emulator.close();
    await fixture.cluster.addWorker();
  }
});

const live = ['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER', 'SNOWFLAKE_PASSWORD'].filter((name) => !process.env[name]);
test('live: a real Snowflake account', { skip: live.length > 0 ? `set ${live.join(', ')} to run against a real account` : false }, async () => {
  const env = process.env;
  const connection = {
    account: env.SNOWFLAKE_ACCOUNT!, username: env.SNOWFLAKE_USER!, password: env.SNOWFLAKE_PASSWORD!,
    ...(env.SNOWFLAKE_WAREHOUSE ? { warehouse: env.SNOWFLAKE_WAREHOUSE } : {}), ...(env.SNOWFLAKE_ROLE ? { role: env.SNOWFLAKE_ROLE } : {}),
  };
  const query = 'SELECT SEQ8() AS ID, UNIFORM(0, 1000, RANDOM(7))::NUMBER(10, 2) AS V, CURRENT_TIMESTAMP() AS AT FROM TABLE(GENERATOR(ROWCOUNT => 200000))';
  const df = await dd.readSnowflake(query, { connection, npartitions: 4 });
  const table = await df.compute();
  assert.equal(table.numRows, 200000);
  const ids = new Set((table.getChild('ID')!.toArray() as BigInt64Array));
  assert.equal(ids.size, 200000, 'no row twice');
});
