// CSV schema inference and dtypes, and malformed rows (error naming file, line, byte and reason; or skip and
// count). The parse throughput is measured by bench/read-csv.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concatTables, inferCsvSchema, PartitionError, planCsvBlocks, readCsvBlock, type CsvOptions } from '../src/index.js';
import { rowsOf, tempDir } from './helpers.js';

const dir = tempDir('csv-schema');

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function readAll(path: string, blocksize: number, options?: CsvOptions) {
  const schema = await inferCsvSchema(path, options);
  return concatTables(await Promise.all(planCsvBlocks([path], blocksize).map((block) => readCsvBlock(block, schema, options))));
}

test('inference picks the narrowest type per column from the sample; dtypes override', async () => {
  const path = write('types.csv', [
    'i,f,b,t,s,empty,big',
    '1,1.5,true,2024-02-29,abc,,3000000000',
    '-7,2,FALSE,2024-03-01 12:30:00.250,"x,y",,1',
    ',1e3,,2024-03-01T00:00:00Z,,,2',
  ].join('\n'));
  const schema = await inferCsvSchema(path);
  assert.deepEqual(schema.columns, [
    { name: 'i', type: 'int32' }, { name: 'f', type: 'float64' }, { name: 'b', type: 'bool' }, { name: 't', type: 'timestamp' },
    { name: 's', type: 'utf8' }, { name: 'empty', type: 'utf8' }, { name: 'big', type: 'float64' },
  ]);
  const table = await readAll(path, 1 << 20);
  assert.deepEqual(rowsOf(table), [
    [1, 1.5, true, Date.UTC(2024, 1, 29), 'abc', null, 3e9],
    [-7, 2, false, Date.UTC(2024, 2, 1, 12, 30, 0, 250), 'x,y', null, 1],
    [null, 1000, null, Date.UTC(2024, 2, 1), null, null, 2],
  ]);
  const overridden = await inferCsvSchema(path, { dtypes: { i: 'float64', t: 'utf8' } });
  assert.deepEqual(overridden.columns.slice(0, 4).map((c) => c.type), ['float64', 'float64', 'bool', 'utf8']);
  await assert.rejects(inferCsvSchema(path, { dtypes: { nope: 'int32' } }), /column "nope".*its columns are: i, f, b, t, s, empty, big/);
});

test('no header: columns are named column0..; other delimiters; duplicate names get suffixes', async () => {
  const path = write('noheader.tsv', '1\tx\n2\ty\n');
  const schema = await inferCsvSchema(path, { header: false, delimiter: '\t' });
  assert.deepEqual(schema.columns, [{ name: 'column0', type: 'int32' }, { name: 'column1', type: 'utf8' }]);
  const table = await readAll(path, 3, { header: false, delimiter: '\t' });
  assert.deepEqual(rowsOf(table), [[1, 'x'], [2, 'y']]);
  const dup = write('dup.csv', 'a,a,b\n1,2,3\n');
  assert.deepEqual((await inferCsvSchema(dup)).columns.map((c) => c.name), ['a', 'a.1', 'b']);
});

test('rows the one-pass reader cannot take go through the tokenizer and read exactly as specified', async () => {
  const long = 'x'.repeat(70);
  const path = write('mixed.csv', [
    'i,s,f,n',
    '1,alpha,1.5,10', // plain
    '2,"quoted, text",2.5,20', // a quote mid-row
    '3,crlf,3.5,30\r', // CRLF
    ',empty-int,,', // empty unquoted fields are nulls
    '+5,plus,5,-2147483648', // a sign the one-pass path leaves to parseInt32; int32's minimum
    '-,dash,6,6', // bad: a sign without digits
    '2147483648,overflow,7,7', // bad: past int32
    `8,${long},8,8`, // longer than the text copied while scanning
    '', // blank: not a row, not a bad line
    '10,too,few', // bad: three fields
    '11,too,many,1,2', // bad: five fields
    '12,études,12,-12', // plain, non-ASCII
    '13,last,13,13', // no newline at the end of the file
  ].join('\n'));
  const options: CsvOptions = { dtypes: { i: 'int32', s: 'utf8', f: 'float64', n: 'int32' }, onBadLines: 'skip' };
  const schema = await inferCsvSchema(path, options);
  const [block] = planCsvBlocks([path], 1 << 20);
  const table = await readCsvBlock(block!, schema, options);
  assert.deepEqual(rowsOf(table), [
    [1, 'alpha', 1.5, 10],
    [2, 'quoted, text', 2.5, 20],
    [3, 'crlf', 3.5, 30],
    [null, 'empty-int', null, null],
    [5, 'plus', 5, -2147483648],
    [8, long, 8, 8],
    [12, 'études', 12, -12],
    [13, 'last', 13, 13],
  ]);
  assert.equal(table.schema.metadata.get('loom.skipped_rows'), '4');
  await assert.rejects(readCsvBlock(block!, schema, { ...options, onBadLines: 'error' }), (error: unknown) =>
    error instanceof PartitionError && / line 7 \(byte \d+\): column "i" \(int32\): expected an int32, found "-"/.test(error.message));
});

test('a malformed row fails with the file, 1-based line, byte offset and reason, from any block', async () => {
  const lines = ['a,b,c'];
  for (let i = 1; i < 400; i++) lines.push(i === 250 ? `${i},"multi\nline",3,extra` : `${i},"q""uote",${i * 2}`);
  const path = write('bad.csv', lines.join('\n') + '\n');
  const byteOfRow = Buffer.byteLength(lines.slice(0, 250).join('\n') + '\n');
  for (const blocksize of [64, 1000, 1 << 20]) {
    await assert.rejects(readAll(path, blocksize), (error: unknown) => {
      assert.ok(error instanceof PartitionError);
      assert.equal(error.code, 'CSV_BAD_LINE');
      assert.equal(error.message, `${path} line 251 (byte ${byteOfRow}): expected 3 fields, found 4`);
      return true;
    });
  }
  const typed = write('typed.csv', 'n,s\n1,a\n2,b\nthree,c\n');
  await assert.rejects(readAll(typed, 1 << 20, { dtypes: { n: 'int32' } }), (error: unknown) => {
    assert.match((error as Error).message, /typed\.csv line 4 \(byte 12\): column "n" \(int32\): expected an int32, found "three"/);
    return true;
  });
});

test("onBadLines 'skip' drops malformed rows and records the count in loom.skipped_rows", async () => {
  const path = write('skip.csv', 'n,s\n1,a\n2,b,extra\nthree,c\n4,d\n5\n');
  const schema = { columns: [{ name: 'n', type: 'int32' as const }, { name: 's', type: 'utf8' as const }] };
  const blocks = planCsvBlocks([path], 8);
  const tables = await Promise.all(blocks.map((block) => readCsvBlock(block, schema, { onBadLines: 'skip' })));
  const total = tables.reduce((sum, table) => sum + Number(table.schema.metadata.get('loom.skipped_rows')), 0);
  assert.equal(total, 3);
  const table = concatTables(tables);
  assert.equal(table.schema.metadata.get('loom.skipped_rows'), '3');
  assert.deepEqual(rowsOf(table), [[1, 'a'], [4, 'd']]);
});
