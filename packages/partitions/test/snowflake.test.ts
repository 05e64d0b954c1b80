// readSnowflake's partition functions with the real snowflake-sdk against the local protocol emulator: exact
// values of every type across inline rows, chunks and partition boundaries; disjoint ranges read in parallel;
// sessions that expire between and during reads; bad credentials; SQL errors; a cancelled query.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SnowflakeEmulator } from '@loom/snowflake-emulator';
import { concatTables, planSnowflakeRanges, readSnowflakePartition, runSnowflakeQuery, PartitionError } from '../src/index.js';
import { actualRow, allTypesTable, expectedRow } from './snowflake-fixtures.js';

const ROWS = 1000;
const emulator = new SnowflakeEmulator({ tables: { ALL_TYPES: allTypesTable(ROWS) }, inlineRows: 37, chunkRows: 101, runMs: 50 });
const login = () => ({ ...emulator.connectionOptions(), username: 'loom', password: 'loom-secret' });

before(async () => {
  await emulator.start();
});
after(async () => {
  await emulator.close();
});

function assertRows(table: ReturnType<typeof concatTables>, start: number): void {
  for (let row = 0; row < table.numRows; row++) {
    assert.deepEqual(actualRow(table, row), expectedRow(start + row), `row ${start + row}`);
  }
}

describe('readSnowflake partitions', () => {
  it('reads every type exactly, across inline rows, chunks and partitions read in parallel', async () => {
    const { result, bytesPerRow } = await runSnowflakeQuery('SELECT * FROM ALL_TYPES', { connection: login() });
    assert.equal(result.rows, ROWS);
    assert.ok(bytesPerRow > 0);
    // 7 partitions over 37 inline rows + chunks of 101: most boundaries fall inside a chunk.
    const ranges = planSnowflakeRanges(result.rows, { npartitions: 7 });
    const tables = await Promise.all(ranges.map((range) => readSnowflakePartition(result, range)));
    ranges.forEach((range, p) => assert.equal(tables[p]!.numRows, range.end - range.start));
    const table = concatTables(tables);
    assert.equal(table.numRows, ROWS);
    assert.deepEqual(table.schema.fields.map((field) => `${field.name}:${field.type}`), [
      'ID:Int64', 'BIG:Int64', 'AMOUNT:Decimal[12e+2]', 'WIDE:Decimal[38e+10]', 'RATIO:Float64', 'NAME:Utf8', 'FLAG:Bool',
      'DAY:Date32<DAY>', 'AT_TIME:Time64<NANOSECOND>', 'NTZ:Timestamp<NANOSECOND>', 'LTZ:Timestamp<MICROSECOND, UTC>',
      'TZ:Timestamp<MILLISECOND, UTC>', 'DOC:Utf8', 'OBJ:Utf8', 'ARR:Utf8', 'BIN:Binary',
    ]);
    assertRows(table, 0);
    // The driver sent the SSE-C headers the result's qrmk calls for.
    assert.equal(emulator.stats.lastChunkHeaders['x-amz-server-side-encryption-customer-algorithm'], 'AES256');
  });

  it('sizes partitions from the measured row width, covering the result once', async () => {
    const { result, bytesPerRow } = await runSnowflakeQuery('SELECT ID, NAME FROM ALL_TYPES', { connection: login(), typeOptions: { lowercaseNames: true } });
    const ranges = planSnowflakeRanges(result.rows, { partitionBytes: bytesPerRow * 150, bytesPerRow });
    assert.equal(ranges.length, Math.ceil(ROWS / 150));
    assert.equal(ranges[0]!.start, 0);
    assert.equal(ranges.at(-1)!.end, ROWS);
    ranges.slice(1).forEach((range, i) => assert.equal(range.start, ranges[i]!.end));
    const table = await readSnowflakePartition(result, ranges[2]!);
    assert.deepEqual(table.schema.fields.map((field) => field.name), ['id', 'name']);
    assert.equal(table.getChild('id')!.get(0), BigInt(ranges[2]!.start));
  });

  it('re-authenticates when the session expires between partitions, and reads on when it expires mid-read', async () => {
    const { result } = await runSnowflakeQuery('SELECT * FROM ALL_TYPES', { connection: login() });
    assertRows(await readSnowflakePartition(result, { start: 0, end: 300 }), 0);
    const logins = emulator.stats.logins;
    emulator.expireSessions({ master: true });
    assertRows(await readSnowflakePartition(result, { start: 300, end: 600 }), 300);
    assert.equal(emulator.stats.logins, logins + 1, 'one new login after the session expired');
    // Mid-read: every session expires while chunk 5 (rows 542..642) is being fetched, and that download fails
    // once. Chunk URLs are presigned, so the driver's retry of the download needs no session and the read goes
    // on; the next partition finds its session gone and logs in again.
    emulator.failChunkOnce(5, { expireSessions: true });
    assertRows(await readSnowflakePartition(result, { start: 400, end: 700 }), 400);
    assertRows(await readSnowflakePartition(result, { start: 700, end: 1000 }), 700);
    assert.equal(emulator.stats.logins, logins + 2);
  });

  it('reports bad credentials without the secret', async () => {
    const password = 'wrong-password-9f2c';
    const error = await runSnowflakeQuery('SELECT * FROM ALL_TYPES', { connection: { ...login(), password } }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof PartitionError);
    assert.equal(error.code, 'SNOWFLAKE_AUTH');
    assert.match(error.message, /login to account "emulator" as "loom" failed \(code 390100\): Incorrect username or password/);
    assert.ok(!JSON.stringify({ message: error.message, stack: error.stack, cause: error.cause }).includes(password));
  });

  it('reports a SQL error with its code, SQL state and query id', async () => {
    const error = await runSnowflakeQuery('SELECT * FROM NO_SUCH_TABLE', { connection: login() }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof PartitionError);
    assert.equal(error.code, 'SNOWFLAKE_SQL');
    assert.match(error.message, /^Snowflake error 002003 \(SQL state 42S02\) \(query id [0-9a-f-]{36}\): SQL compilation error:\nObject 'NO_SUCH_TABLE' does not exist/);
  });

  it('cancels a running query from the client', async () => {
    const controller = new AbortController();
    const aborts = emulator.stats.aborts;
    const error = await runSnowflakeQuery('SELECT SYSTEM$WAIT(30)', {
      connection: login(), signal: controller.signal, onSubmitted: () => setTimeout(() => controller.abort(), 100),
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof PartitionError);
    assert.equal(error.code, 'SNOWFLAKE_CANCELLED');
    assert.match(error.message, /query id [0-9a-f-]{36}/);
    assert.equal(emulator.stats.aborts, aborts + 1);
  });
});
