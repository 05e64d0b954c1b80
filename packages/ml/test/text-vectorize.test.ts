import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  Dictionary, FixedSizeList, Int32, tableFromArrays, tableFromIPC, tableToIPC, Uint8, vectorFromArray, Utf8, Table,
} from 'apache-arrow';
import {
  CHARS_COLUMN, encodeTexts, LABEL_COLUMN, PAPER_ALPHABET, splitBucket, tensorize, vectorizeText, VectorizedRows, isMlError,
} from '../src/index.js';

const encoding = { alphabet: PAPER_ALPHABET, length: 16, lowercase: true };
const texts = ['Hello, World!', 'naïve café — ok', '', 'UPPER lower 123\nnext', 'x'.repeat(40), 'İstanbul'];

function charsOf(table: Table): number[][] {
  const rows = new VectorizedRows(table);
  const out = new Int32Array(2 * rows.numRows * rows.length);
  for (let row = 0; row < rows.numRows; row++) rows.copyRow(row, out, row * rows.length);
  return Array.from({ length: rows.numRows }, (_, row) => Array.from({ length: rows.length }, (_, i) => out[2 * (row * rows.length + i)] as number));
}

test('vectorize matches encodeTexts, including non-ASCII, truncation and padding, as fixed-size uint8 lists', () => {
  const table = new Table({ body: vectorFromArray(texts, new Utf8()), label: vectorFromArray(['a', 'b', 'a', 'b', 'a', 'b'], new Utf8()) });
  const out = vectorizeText(table, { text: 'body', label: 'label', classes: ['a', 'b'], ...encoding });
  const type = out.schema.fields[0]?.type;
  assert.ok(type instanceof FixedSizeList && type.listSize === 16 && type.valueType instanceof Uint8);
  assert.equal(out.schema.fields[0]?.name, CHARS_COLUMN);
  const expected = encodeTexts(texts, encoding);
  assert.deepEqual(charsOf(out).flat(), Array.from(expected, Number));
  assert.deepEqual(Array.from(out.getChild(LABEL_COLUMN)!.toArray() as Int32Array), [0, 1, 0, 1, 0, 1]);
});

test('dictionary-encoded text, nulls as padding, and an IPC round trip keep the rows', () => {
  const table = tableFromArrays({ body: ['spam spam', 'ham', 'spam spam'], label: [1, 0, 1] }); // body: Dictionary<Utf8>
  const withNull = new Table({ body: vectorFromArray(['ok', null], new Utf8()), label: vectorFromArray([0, 1]) });
  const a = vectorizeText(table, { text: 'body', label: 'label', classes: ['0', '1'], ...encoding });
  assert.deepEqual(charsOf(a).flat(), Array.from(encodeTexts(['spam spam', 'ham', 'spam spam'], encoding), Number));
  const b = vectorizeText(withNull, { text: 'body', label: 'label', classes: ['0', '1'], ...encoding });
  assert.deepEqual(charsOf(b)[1], new Array(16).fill(0));
  const back = tableFromIPC(tableToIPC(a));
  assert.deepEqual(charsOf(back), charsOf(a));
});

test('bad input fails with the column, row or label named', () => {
  const table = tableFromArrays({ body: ['a', 'b'], label: ['x', 'y'], n: Float64Array.of(1, 2) });
  const fails = (options: Parameters<typeof vectorizeText>[1], pattern: RegExp) =>
    assert.throws(() => vectorizeText(table, options), (error: unknown) => isMlError(error, 'INVALID_ARGUMENT') && pattern.test((error as Error).message));
  fails({ text: 'missing', ...encoding }, /no column 'missing' \(columns: body, label, n\)/);
  fails({ text: 'n', ...encoding }, /'n' is Float64, not a string column/);
  fails({ text: 'body', label: 'label', classes: ['x'], ...encoding }, /row 1: label "y" is not one of the classes \["x"\]/);
  fails({ text: 'body', label: 'label', ...encoding }, /needs the classes/);
});

test('tensorize gathers (table, row) picks across partitions into int64 batches', () => {
  const one = vectorizeText(tableFromArrays({ body: ['abc', 'def'], label: ['a', 'b'] }), { text: 'body', label: 'label', classes: ['a', 'b'], ...encoding });
  const two = vectorizeText(tableFromArrays({ body: ['ghi'], label: ['b'] }), { text: 'body', label: 'label', classes: ['a', 'b'], ...encoding });
  const batch = tensorize([new VectorizedRows(one), new VectorizedRows(two)], Int32Array.of(1, 0, 0, 1, 0, 0));
  assert.equal(batch.rows, 3);
  assert.deepEqual(Array.from(batch.labels), [1n, 1n, 0n]);
  assert.deepEqual(Array.from(batch.chars.subarray(0, 3)), Array.from(encodeTexts(['ghi'], encoding).subarray(0, 3)));
  assert.deepEqual(Array.from(batch.chars.subarray(16, 19)), Array.from(encodeTexts(['def'], encoding).subarray(0, 3)));
  assert.throws(() => tensorize([new VectorizedRows(two)], Int32Array.of(0, 5)), /row 5 is outside the partition's 1 rows/);
});

test('a multi-batch vectorized table reads every record batch', () => {
  const parts = ['one', 'two', 'three'].map((body, i) =>
    vectorizeText(tableFromArrays({ body: [body], label: [String(i % 2)] }), { text: 'body', label: 'label', classes: ['0', '1'], ...encoding }));
  const joined = parts[0]!.concat(parts[1]!, parts[2]!);
  assert.equal(joined.batches.length, 3);
  const batch = tensorize([new VectorizedRows(joined)], Int32Array.of(0, 2, 0, 1));
  assert.deepEqual(Array.from(batch.labels), [0n, 1n]);
  assert.deepEqual(Array.from(batch.chars.subarray(0, 5)), Array.from(encodeTexts(['three'], encoding).subarray(0, 5)));
});

test('the train/test split is deterministic, complementary and close to the fraction', () => {
  const encoder = new TextEncoder();
  let test = 0;
  for (let i = 0; i < 10_000; i++) {
    const text = encoder.encode(`message ${i}`);
    const isTest = splitBucket(text, { testFraction: 0.2, seed: 7, keep: 'test' });
    assert.equal(splitBucket(text, { testFraction: 0.2, seed: 7, keep: 'train' }), !isTest);
    assert.equal(splitBucket(text, { testFraction: 0.2, seed: 7, keep: 'test' }), isTest);
    if (isTest) test++;
  }
  assert.ok(test > 1_850 && test < 2_150, `${test} of 10000 on the test side`);
  const table = tableFromArrays({ body: Array.from({ length: 100 }, (_, i) => `m${i}`), label: Array.from({ length: 100 }, () => 'a') });
  const options = { text: 'body', label: 'label', classes: ['a', 'b'], ...encoding };
  const train = vectorizeText(table, { ...options, split: { testFraction: 0.3, seed: 1, keep: 'train' } });
  const held = vectorizeText(table, { ...options, split: { testFraction: 0.3, seed: 1, keep: 'test' } });
  assert.equal(train.numRows + held.numRows, 100);
});

test('a partition with no rows left (empty, or every row on the other side of the split) vectorizes to an empty table', () => {
  const table = tableFromArrays({ body: ['a b', 'c d'], label: ['a', 'b'] });
  const options = { text: 'body', label: 'label', classes: ['a', 'b'], ...encoding };
  const full = vectorizeText(table, options);
  for (const input of [table.slice(0, 0), table]) {
    // With no test fraction every row is on the train side, so keeping the test side keeps none.
    const split = input.numRows === 0 ? undefined : { testFraction: 0, seed: 0, keep: 'test' as const };
    const out = vectorizeText(input, split === undefined ? options : { ...options, split });
    assert.equal(out.numRows, 0);
    assert.deepEqual(out.schema.fields.map((f) => [f.name, String(f.type), f.nullable]), full.schema.fields.map((f) => [f.name, String(f.type), f.nullable]));
  }
});

test('a table of another apache-arrow copy (the CommonJS build, loaded through require) vectorizes like its own', () => {
  const cjs = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
  const rows = { body: ['spam spam', 'ham', null, 'spam spam'], label: ['1', '0', '0', '1'] };
  const dictionary = () => new Dictionary(new Utf8(), new Int32());
  const own = new Table({ body: vectorFromArray(rows.body, dictionary()), label: vectorFromArray(rows.label, new Utf8()) });
  const foreign = new cjs.Table({ body: cjs.vectorFromArray(rows.body, new cjs.Dictionary(new cjs.Utf8(), new cjs.Int32())), label: cjs.vectorFromArray(rows.label, new cjs.Utf8()) });
  const options = { text: 'body', label: 'label', classes: ['0', '1'], ...encoding };
  const out = vectorizeText(foreign, options);
  assert.deepEqual(charsOf(out), charsOf(vectorizeText(own, options)));
  assert.deepEqual(Array.from(out.getChild(LABEL_COLUMN)!.toArray() as Int32Array), [1, 0, 0, 1]);
});
