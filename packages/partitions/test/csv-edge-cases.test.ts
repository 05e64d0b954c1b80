// CSV edge cases that once went wrong silently: an unclosed quote (one block or across block boundaries), text
// after a closing quote, a byte-order mark, blank lines under LF and CRLF, lone-CR line endings, quotes inside
// unquoted fields, and impossible calendar dates. Each read is tried at every block boundary position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concatTables, inferCsvSchema, PartitionError, planCsvBlocks, readCsvBlock, type CsvBlock, type CsvOptions, type CsvSchema } from '../src/index.js';
import { rowsOf, tempDir } from './helpers.js';

const dir = tempDir('csv-edge');

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Every way of cutting the file in two, then every block size up to the file's length. */
function plans(path: string, size: number): CsvBlock[][] {
  const cuts = Array.from({ length: Math.max(0, size - 1) }, (_, i) => [
    { path, start: 0, end: i + 1, index: 0 },
    { path, start: i + 1, end: size, index: 1 },
  ]);
  const sizes = Array.from({ length: size }, (_, i) => planCsvBlocks([path], i + 1));
  return [...cuts, ...sizes];
}

async function readPlan(blocks: CsvBlock[], schema: CsvSchema, options?: CsvOptions) {
  return concatTables(await Promise.all(blocks.map((block) => readCsvBlock(block, schema, options))));
}

/** Every plan reads `expected`. */
async function assertReadsEverywhere(path: string, text: string, schema: CsvSchema, expected: unknown[][], options?: CsvOptions) {
  for (const blocks of plans(path, Buffer.byteLength(text))) {
    assert.deepEqual(rowsOf(await readPlan(blocks, schema, options)), expected, `blocks ${JSON.stringify(blocks.map((b) => [b.start, b.end]))}`);
  }
}

/** Every plan fails, and every block that fails says exactly `message`. */
async function assertFailsEverywhere(path: string, text: string, schema: CsvSchema, message: string, options?: CsvOptions) {
  for (const blocks of plans(path, Buffer.byteLength(text))) {
    const results = await Promise.allSettled(blocks.map((block) => readCsvBlock(block, schema, options)));
    const failures = results.filter((result) => result.status === 'rejected');
    const where = `blocks ${JSON.stringify(blocks.map((b) => [b.start, b.end]))}`;
    assert.ok(failures.length > 0, `${where}: no block failed`);
    for (const failure of failures) {
      const error: unknown = failure.reason;
      assert.ok(error instanceof PartitionError, `${where}: ${String(error)}`);
      assert.equal(error.code, 'CSV_BAD_LINE');
      assert.equal(error.message, message, where);
    }
  }
}

const text2: CsvSchema = { columns: [{ name: 'id', type: 'utf8' }, { name: 'v', type: 'utf8' }] };

test('an unclosed quote fails the read naming where the quoted field opens, in every onBadLines mode and block plan', async () => {
  const text = 'id,v\n1,2\n2,"unterminated\n3,4\n';
  const path = write('unclosed.csv', text);
  const message = `${path} line 3 (byte ${text.indexOf('"')}): quoted field never closed (it opens here and runs to the end of the file)`;
  for (const onBadLines of ['error', 'skip'] as const) {
    await assertFailsEverywhere(path, text, text2, message, { onBadLines });
  }
  // Inference reads the same rows and stops at the same place rather than typing v as text.
  await assert.rejects(inferCsvSchema(path), (error: unknown) => error instanceof PartitionError && error.message === message);
});

test('an unclosed quote far from the end of a block: the block holding it and every later one name it', async () => {
  const lines = ['id,v'];
  // Quoted fields before the open quote; none after it, so nothing can close it.
  for (let i = 0; i < 300; i++) lines.push(i < 120 ? `${i},"row ${i}, quoted"` : i === 120 ? `${i},"never closed` : `${i},row ${i}`);
  const text = lines.join('\n') + '\n';
  const path = write('unclosed-long.csv', text);
  const quote = Buffer.byteLength(lines.slice(0, 121).join('\n') + '\n') + '120,'.length;
  const message = `${path} line 122 (byte ${quote}): quoted field never closed (it opens here and runs to the end of the file)`;
  for (const blocksize of [17, 100, 1000, 1 << 20]) {
    const results = await Promise.allSettled(planCsvBlocks([path], blocksize).map((block) => readCsvBlock(block, text2, { onBadLines: 'skip' })));
    const failures = results.flatMap((result, index) => (result.status === 'rejected' ? [{ index, error: result.reason as Error }] : []));
    assert.ok(failures.length > 0, `blocksize ${blocksize}`);
    for (const { error } of failures) assert.equal(error.message, message, `blocksize ${blocksize}`);
    // Blocks wholly after the quote are inside the unclosed field: none of them reads rows out of it.
    results.forEach((result, index) => {
      if (index * blocksize > quote && result.status === 'fulfilled') assert.equal(result.value.numRows, 0, `blocksize ${blocksize} block ${index}`);
    });
  }
});

test('text after a closing quote is an error naming the first byte after the quote, in every mode', async () => {
  const text = 'id,v\n1,"ab"c\n2,d\n';
  const path = write('after-quote.csv', text);
  const message = `${path} line 2 (byte ${text.indexOf('c')}): text after the closing quote of a quoted field (found "c"); a quote inside a quoted field is written twice ("")`;
  for (const onBadLines of ['error', 'skip'] as const) await assertFailsEverywhere(path, text, text2, message, { onBadLines });
});

test('a quote inside an unquoted field is kept as it is, at every block boundary', async () => {
  const text = 'id,v\n1,5\'10"\n2,say "hi"\n3,"a ""real"" quote"\n4,x"\n';
  const path = write('literal-quotes.csv', text);
  await assertReadsEverywhere(path, text, text2, [['1', '5\'10"'], ['2', 'say "hi"'], ['3', 'a "real" quote'], ['4', 'x"']]);
});

test('a UTF-8 byte-order mark is not part of the first header name or the first value', async () => {
  const text = '\ufeff"first",b\n1,2\n3,4\n';
  const path = write('bom.csv', text);
  const schema = await inferCsvSchema(path);
  assert.deepEqual(schema.columns, [{ name: 'first', type: 'int32' }, { name: 'b', type: 'int32' }]);
  await assertReadsEverywhere(path, text, schema, [[1, 2], [3, 4]]);
  const noHeader = await inferCsvSchema(path, { header: false });
  assert.deepEqual(noHeader.columns.map((c) => c.type), ['utf8', 'utf8']);
  await assertReadsEverywhere(path, text, noHeader, [['first', 'b'], ['1', '2'], ['3', '4']], { header: false });
});

test('blank lines before the header: whichever block the header starts in skips it', async () => {
  const text = '\ufeff\n\r\n\nname,v\n\na,1\nb,2\n';
  const path = write('blank-before-header.csv', text);
  const schema = await inferCsvSchema(path, { dtypes: { v: 'utf8' } });
  assert.deepEqual(schema.columns, [{ name: 'name', type: 'utf8' }, { name: 'v', type: 'utf8' }]);
  await assertReadsEverywhere(path, text, schema, [['a', '1'], ['b', '2']]);
});

test('blank lines are skipped whether lines end in LF or CRLF, also in a one-column file', async () => {
  for (const [label, newline] of [['lf', '\n'], ['crlf', '\r\n'], ['cr', '\r']] as const) {
    const text = ['a', '1', '', '2', '', '', '""', '3'].join(newline) + newline;
    const path = write(`blank-${label}.csv`, text);
    const schema = await inferCsvSchema(path);
    assert.deepEqual(schema.columns, [{ name: 'a', type: 'utf8' }], label);
    await assertReadsEverywhere(path, text, schema, [['1'], ['2'], [''], ['3']]);
    const ints: CsvSchema = { columns: [{ name: 'a', type: 'int32' }] };
    const noEmptyString = text.replace(`""${newline}`, '');
    const intPath = write(`blank-int-${label}.csv`, noEmptyString);
    await assertReadsEverywhere(intPath, noEmptyString, ints, [[1], [2], [3]]);
  }
});

test('a lone CR ends a row (old Mac and Excel for Mac files), and line numbers count it', async () => {
  const text = 'a,b\r1,2\r3,"x\ry"\r\n4,5,6\r';
  const path = write('lone-cr.csv', text);
  await assertReadsEverywhere(path, text, text2, [['1', '2'], ['3', 'x\ry']], { onBadLines: 'skip' });
  await assertFailsEverywhere(path, text, text2, `${path} line 5 (byte ${text.indexOf('4')}): expected 2 fields, found 3`);
});

test('impossible calendar dates and out-of-range times are not timestamps; years below 100 stay themselves', async () => {
  const text = 't\n2024-02-29\n0050-06-01 12:00\n1999-12-31T23:59:59.999Z\n';
  const path = write('dates.csv', text);
  const schema = await inferCsvSchema(path);
  assert.deepEqual(schema.columns, [{ name: 't', type: 'timestamp' }]);
  const year50 = new Date(0);
  year50.setUTCFullYear(50, 5, 1);
  year50.setUTCHours(12);
  await assertReadsEverywhere(path, text, schema, [[Date.UTC(2024, 1, 29)], [year50.getTime()], [Date.UTC(1999, 11, 31, 23, 59, 59, 999)]]);
  for (const bad of ['2024-02-31', '2023-02-29', '2024-04-31', '2024-01-01 24:00', '2024-01-01 23:59:60', '2024-01-01T10:00+24:00']) {
    const badText = `t\n2024-01-01\n${bad}\n`;
    const badPath = write('bad-date.csv', badText);
    assert.deepEqual((await inferCsvSchema(badPath)).columns, [{ name: 't', type: 'utf8' }], bad);
    const [block] = planCsvBlocks([badPath], 1 << 20);
    await assert.rejects(readCsvBlock(block!, { columns: [{ name: 't', type: 'timestamp' }] }), (error: unknown) => {
      assert.ok(error instanceof PartitionError);
      assert.ok(error.message.startsWith(`${badPath} line 3 (byte 13): column "t" (timestamp): expected a timestamp`), error.message);
      assert.ok(error.message.includes(`found ${JSON.stringify(bad)}`), error.message);
      return true;
    }, bad);
  }
});
