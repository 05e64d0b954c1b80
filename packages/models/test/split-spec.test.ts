// readSplit: both shapes, pass-through columns, grouping by source, connections and files resolved; and
// validation: every problem class found in one pass, each naming row, id and column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { tableFromArrays, vectorFromArray, Table, TimestampMillisecond, Utf8 } from 'apache-arrow';
import { readSplit, SplitError, type SplitProblem, type SplitSlice } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'loom-split-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function problemsOf(promise: Promise<unknown>): Promise<SplitProblem[]> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof SplitError, `expected a SplitError, got ${String(error)}`);
  assert.equal(error.code, 'INVALID_SPLIT');
  return [...error.problems];
}

/** Problems without their messages, for exact comparison; `messages` checks the wording separately. */
function where(problems: SplitProblem[]): Array<[number | undefined, string | undefined, string | undefined]> {
  return problems.map((p) => [p.row, p.id, p.column]);
}

const DB_HEADER = 'id,database,table,column,train_from,train_to,test_from,test_to';

test('database rows: ranges parsed, extra columns passed through, slices grouped by (database, table)', async () => {
  const path = write('db.csv', [
    `${DB_HEADER},region,owner`,
    'a,db1,metrics,cpu,2024-01-01,2024-02-01,2024-02-01,2024-03-01,eu,ops',
    'b,db2,metrics,cpu,2024-01-01T00:00:00Z,2024-01-31T12:00:00+02:00,2024-02-01 00:00,2024-02-02,us,',
    'c,db1,metrics,mem,2024-01-01,2024-02-01,2024-02-01,2024-03-01,eu,"ops, infra"',
  ]);
  const split = await readSplit(path, { connections: { db1: 'postgres://h/db1', db2: 'postgres://h/db2' } });
  assert.equal(split.shape, 'database');
  assert.equal(split.timeColumn, 'ts');
  assert.deepEqual(split.extraColumns, ['region', 'owner']);
  assert.equal(split.size, 3);
  const b = split.get('b');
  assert.ok(b);
  assert.equal(b.rangeKind, 'timestamp');
  assert.deepEqual(b.trainRange, { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 31, 10) });
  assert.deepEqual(b.testRange, { from: Date.UTC(2024, 1, 1), to: Date.UTC(2024, 1, 2) });
  assert.deepEqual(b.extra, { region: 'us' }, 'a null cell is left out of extra');
  assert.deepEqual(split.get('c')?.extra, { region: 'eu', owner: 'ops, infra' });
  assert.deepEqual(b.source, { kind: 'database', database: 'db2', table: 'metrics', connection: 'postgres://h/db2' });
  const sources = split.sources();
  assert.deepEqual(sources.map((s) => s.slices.map((slice) => slice.id)), [['a', 'c'], ['b']]);
  assert.deepEqual(sources[0]?.span, { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 2, 1) });
  assert.deepEqual(split.select(['c']).slices.map((s) => s.id), ['c']);
  await assert.rejects(async () => split.select(['c', 'nope']), (e: unknown) => e instanceof SplitError && /nope/.test(e.message));
});

test('rows with the same bounds and extra values share frozen objects; a row that differs gets its own', async () => {
  const path = write('shared.csv', [
    `${DB_HEADER},region`,
    'a,db1,metrics,cpu,2024-01-01,2024-02-01,2024-02-01,2024-03-01,eu',
    'b,db1,metrics,mem,2024-01-01,2024-02-01,2024-02-01,2024-03-01,eu',
    'c,db1,metrics,io,2024-01-01,2024-02-02,2024-02-02,2024-03-01,eu',
    'd,db1,metrics,net,2024-01-01,2024-02-02,2024-02-02,2024-03-01,',
    'e,db1,metrics,disk,2024-01-01,2024-02-02,2024-02-02,2024-03-01,us',
  ]);
  const split = await readSplit(path);
  const [a, b, c, d, e] = split.slices as SplitSlice[] as [SplitSlice, SplitSlice, SplitSlice, SplitSlice, SplitSlice];
  assert.equal(a.trainRange, b.trainRange);
  assert.equal(a.extra, b.extra);
  assert.notEqual(b.trainRange, c.trainRange);
  assert.deepEqual(c.trainRange, { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 1, 2) });
  assert.equal(b.extra, c.extra);
  assert.deepEqual([d.extra, e.extra], [{}, { region: 'us' }]);
  assert.throws(() => {
    (a.trainRange as { from: number }).from = 0;
  }, TypeError, 'a shared range cannot be changed through one slice');
});

test('file rows: relative paths resolve against the split file, numeric ranges, optional column', async () => {
  const sub = join(dir, 'files');
  mkdirSync(join(sub, 'data'), { recursive: true });
  writeFileSync(join(sub, 'data', 'one.parquet'), 'x');
  writeFileSync(join(sub, 'data', 'two.csv'), 'ts,v\n');
  const path = join(sub, 'split.csv');
  writeFileSync(path, ['id,file,column,train_from,train_to,test_from,test_to', 's1,data/one.parquet,cpu,0,100,100,150', 's2,data/two.csv,,0,10,20,30', `s3,${join(sub, 'data', 'one.parquet')},mem,1e2,2e2,50,100`].join('\n'));
  const split = await readSplit(path);
  assert.equal(split.shape, 'file');
  assert.deepEqual(split.slices.map((s) => [s.id, s.source, s.column, s.rangeKind]), [
    ['s1', { kind: 'file', file: join(sub, 'data', 'one.parquet') }, 'cpu', 'number'],
    ['s2', { kind: 'file', file: join(sub, 'data', 'two.csv') }, undefined, 'number'],
    ['s3', { kind: 'file', file: join(sub, 'data', 'one.parquet') }, 'mem', 'number'],
  ]);
  assert.deepEqual(split.get('s3')?.trainRange, { from: 100, to: 200 });
  assert.deepEqual(split.sources().map((s) => s.slices.map((slice) => slice.id)), [['s1', 's3'], ['s2']]);
});

test('every row problem is reported at once, each naming row, id and column', async () => {
  const path = write('bad-rows.csv', [
    DB_HEADER,
    'ok,db1,t,cpu,0,10,10,20', // 1: fine
    'dup,db1,t,cpu,0,10,10,20', // 2
    'dup,db1,t,mem,0,10,10,20', // 3: duplicate id
    ',db1,t,cpu,0,10,10,20', // 4: missing id
    'late,db1,t,cpu,0,10,30,20', // 5: test_from > test_to
    'lap,db1,t,cpu,0,10,5,20', // 6: overlap
    'junk,db1,t,cpu,yesterday,10,2024-02-30,20', // 7: unparseable, impossible date
    'mixed,db1,t,cpu,0,10,2024-02-01,2024-03-01', // 8: numbers and timestamps in one row
    'nodb,db9,t,cpu,0,10,10,20', // 9: unknown database
    'thrower,boom,t,cpu,0,10,10,20', // 10: connections throws
    'tscol,db1,t,ts,0,10,10,20', // 11: value column is the time column
    'kinds,db1,t,cpu,2024-01-01,2024-02-01,2024-02-01,2024-03-01', // 12: timestamps, where row 1 of the same source has numbers
    'blank,db1,,,0,,10,20', // 13: missing table, column, train_to
    'back,db1,u,cpu,20,10,30,40', // 14: train_to < train_from
  ]);
  const connections = (db: string): string | undefined => {
    if (db === 'boom') throw new Error('vault unreachable');
    return db === 'db1' ? 'postgres://h/db1' : undefined;
  };
  const problems = await problemsOf(readSplit(path, { connections }));
  assert.deepEqual(where(problems), [
    [3, 'dup', 'id'],
    [4, undefined, 'id'],
    [5, 'late', 'test_to'],
    [6, 'lap', 'test_from'],
    [7, 'junk', 'train_from'],
    [7, 'junk', 'test_from'],
    [8, 'mixed', 'test_from'],
    [9, 'nodb', 'database'],
    [10, 'thrower', 'database'],
    [11, 'tscol', 'column'],
    [12, 'kinds', 'train_from'],
    [13, 'blank', 'table'],
    [13, 'blank', 'column'],
    [13, 'blank', 'train_to'],
    [14, 'back', 'train_to'],
  ]);
  const message = (row: number, column: string): string => problems.find((p) => p.row === row && p.column === column)?.message ?? '';
  assert.match(message(3, 'id'), /duplicate id \(first at row 2\)/);
  assert.match(message(4, 'id'), /missing value/);
  assert.match(message(5, 'test_to'), /test_to 20 is before test_from 30/);
  assert.match(message(6, 'test_from'), /\[0, 10\) and the test range \[5, 20\) overlap/);
  assert.match(message(7, 'train_from'), /not an ISO 8601 timestamp or a number: "yesterday"/);
  assert.match(message(7, 'test_from'), /day out of range: "2024-02-30"/);
  assert.match(message(8, 'test_from'), /timestamp while train_from is a number/);
  assert.match(message(9, 'database'), /unknown database "db9"/);
  assert.match(message(10, 'database'), /vault unreachable/);
  assert.match(message(12, 'train_from'), /bounds are timestamps, but row 1 of the same source gives numbers/);
});

test('header problems: missing columns, misspelt ones, both shapes, and columns of the other shape', async () => {
  const misspelt = await problemsOf(readSplit(write('misspelt.csv', ['ID,database,table,column,train_form,train_to,test_from,test_to,region', 'a,db,t,c,0,1,1,2,eu'])));
  assert.deepEqual(where(misspelt), [
    [undefined, undefined, 'id'],
    [undefined, undefined, 'train_from'],
    [undefined, undefined, 'ID'],
    [undefined, undefined, 'train_form'],
  ]);
  assert.match(misspelt[3]?.message ?? '', /did you mean 'train_from'/);

  const both = await problemsOf(readSplit(write('both.csv', ['id,database,file,train_from,train_to,test_from,test_to', 'a,db,f,0,1,1,2'])));
  assert.deepEqual(where(both), [[undefined, undefined, 'file']]);
  assert.match(both[0]?.message ?? '', /not both/);

  const neither = await problemsOf(readSplit(write('neither.csv', ['id,train_from,train_to,test_from,test_to', 'a,0,1,1,2'])));
  assert.match(neither[0]?.message ?? '', /no 'database' or 'file' column/);

  const fileWithTable = await problemsOf(readSplit(write('file-table.csv', ['id,file,table,train_from,train_to,test_from,test_to', 'a,nowhere.csv,t,0,1,1,2'])));
  assert.deepEqual(where(fileWithTable), [
    [undefined, undefined, 'table'],
    [1, 'a', 'file'],
  ]);

  const repeated = await problemsOf(readSplit(write('repeated.csv', [`${DB_HEADER},train_to`, 'a,db,t,c,0,1,1,2,3'])));
  assert.deepEqual(where(repeated), [[undefined, undefined, 'train_to']]);

  const proto = await problemsOf(readSplit(write('proto.csv', [`${DB_HEADER},__proto__`, 'a,db,t,c,0,1,1,2,x'])));
  assert.deepEqual(where(proto), [[undefined, undefined, '__proto__']]);

  const restricted = await problemsOf(readSplit(write('restricted.csv', [`${DB_HEADER},region,team`, 'a,db,t,c,0,1,1,2,eu,x']), { passThrough: ['region'] }));
  assert.deepEqual(where(restricted), [[undefined, undefined, 'team']]);
});

test('unreadable files are reported on every row that names them, relative to the split file', async () => {
  const sub = join(dir, 'missing-files');
  mkdirSync(join(sub, 'a-directory'), { recursive: true });
  writeFileSync(join(sub, 'here.csv'), 'ts,v\n');
  const path = join(sub, 'split.csv');
  writeFileSync(path, ['id,file,train_from,train_to,test_from,test_to', 'x,here.csv,0,1,1,2', 'y,gone.csv,0,1,1,2', 'z,gone.csv,0,1,1,2', 'w,a-directory,0,1,1,2'].join('\n'));
  const problems = await problemsOf(readSplit(path));
  assert.deepEqual(where(problems), [
    [2, 'y', 'file'],
    [3, 'z', 'file'],
    [4, 'w', 'file'],
  ]);
  assert.ok(problems[0]?.message.includes(join(sub, 'gone.csv')), problems[0]?.message);
  assert.match(problems[2]?.message ?? '', /not a regular file/);
});

test('the message lists the first problems and counts the rest; all are in problems', async () => {
  const rows = Array.from({ length: 30 }, (_, i) => `r${i},db,t,c,5,1,10,20`);
  const error = await readSplit(write('many.csv', [DB_HEADER, ...rows])).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof SplitError);
  assert.equal(error.problems.length, 30);
  assert.match(error.message, /30 problems/);
  assert.match(error.message, /row 20 \(id "r19"\), column train_to/);
  assert.doesNotMatch(error.message, /row 21 /);
  assert.match(error.message, /\.\.\. and 10 more/);
});

test('a malformed split file is an error naming its line; an empty split is an error', async () => {
  const badLine = write('bad-line.csv', [DB_HEADER, 'a,db,t,c,0,1,1,2', 'b,db,t,c,0,1,1', 'c,db,t,c,0,1,1,2']);
  await assert.rejects(readSplit(badLine), (e: unknown) => e instanceof SplitError && e.code === 'UNREADABLE_SPLIT' && /line 3/.test(e.message));
  const quote = write('quote.csv', [DB_HEADER, 'a,"db,t,c,0,1,1,2']);
  await assert.rejects(readSplit(quote), (e: unknown) => e instanceof SplitError && e.code === 'UNREADABLE_SPLIT' && /line 2/.test(e.message));
  await assert.rejects(readSplit(join(dir, 'no-such.csv')), (e: unknown) => e instanceof SplitError && e.code === 'UNREADABLE_SPLIT' && /no-such\.csv/.test(e.message));
  writeFileSync(join(dir, 'empty.csv'), '');
  await assert.rejects(readSplit(join(dir, 'empty.csv')), (e: unknown) => e instanceof SplitError && e.code === 'UNREADABLE_SPLIT' && /empty/.test(e.message));
  const headerOnly = await problemsOf(readSplit(write('header-only.csv', [DB_HEADER])));
  assert.match(headerOnly[0]?.message ?? '', /no rows/);
});

test('a byte-order mark before the header is not part of the first column name', async () => {
  const path = join(dir, 'bom.csv');
  writeFileSync(path, `\uFEFF${DB_HEADER}\na,db,t,c,0,1,1,2\n`);
  assert.equal((await readSplit(path)).get('a')?.column, 'c');
});

test('an Arrow table split: numeric and timestamp range columns, relative files against baseDir', async () => {
  const sub = join(dir, 'arrow');
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(sub, 'f.csv'), 'ts,v\n');
  const t0 = Date.UTC(2024, 0, 1);
  const day = 86_400_000;
  const table = new Table({
    id: vectorFromArray(['x', 'y'], new Utf8()),
    file: vectorFromArray(['f.csv', 'f.csv']),
    train_from: vectorFromArray([t0, t0], new TimestampMillisecond()),
    train_to: vectorFromArray([t0 + 10 * day, t0 + 5 * day], new TimestampMillisecond()),
    test_from: vectorFromArray([t0 + 10 * day, t0 + 5 * day], new TimestampMillisecond()),
    test_to: vectorFromArray([t0 + 20 * day, t0 + 6 * day], new TimestampMillisecond()),
  });
  const split = await readSplit(table, { baseDir: sub });
  assert.deepEqual(split.get('y')?.trainRange, { from: t0, to: t0 + 5 * day });
  assert.equal(split.get('y')?.rangeKind, 'timestamp');
  assert.equal(split.origin, 'Arrow table');

  const numeric = tableFromArrays({ id: ['n'], file: [join(sub, 'f.csv')], train_from: Float64Array.of(0), train_to: Float64Array.of(10), test_from: Float64Array.of(5), test_to: Float64Array.of(15) });
  const problems = await problemsOf(readSplit(numeric));
  assert.deepEqual(where(problems), [[1, 'n', 'test_from']]);
  await assert.rejects(readSplit({} as Table), (e: unknown) => e instanceof SplitError && e.code === 'BAD_OPTIONS');
});
