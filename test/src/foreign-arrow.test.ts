// Arrow tables from another copy of apache-arrow on a real cluster: the CommonJS build of Loom's own version
// (loaded through require) and apache-arrow 17, handed to fromArrow, returned by mapPartitions on the workers,
// passed as task arguments and trained on; Arrow IPC bytes given to fromArrow; bytes that are not Arrow refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as arrow17 from 'apache-arrow-17';
import { dataframe as dd, delayed, isLoomError } from '@loom/client';
import { charcnn, train } from '@loom/ml';
import { useCluster } from './cluster-fixture.js';

const fixture = useCluster();

type Arrow = typeof dd.arrow;
type Table = InstanceType<Arrow['Table']>;

const copies: ReadonlyArray<[string, Arrow]> = [
  ['the CommonJS build of the same version', createRequire(import.meta.url)('apache-arrow') as Arrow],
  ['apache-arrow 17', arrow17 as unknown as Arrow],
];

const ROWS = 12;
const words = Array.from({ length: ROWS }, (_, i) => (i % 3 === 0 ? 'spam' : i % 3 === 1 ? 'ham' : null));

/** The same rows built by any copy: dictionary strings, Int64, nullable ints, floats, bools, timestamps, nested. */
function sampleTable(lib: Arrow): Table {
  const field = (name: string, type: InstanceType<Arrow['DataType']>) => new lib.Field(name, type, true);
  return new lib.Table<Record<string, InstanceType<Arrow['DataType']>>>({
    word: lib.vectorFromArray(words, new lib.Dictionary(new lib.Utf8(), new lib.Int32())),
    id: lib.vectorFromArray(Array.from({ length: ROWS }, (_, i) => BigInt(i) * 2n ** 40n), new lib.Int64()),
    n: lib.vectorFromArray(Array.from({ length: ROWS }, (_, i) => (i % 4 === 0 ? null : i)), new lib.Int32()),
    score: lib.vectorFromArray(Array.from({ length: ROWS }, (_, i) => i / 4), new lib.Float64()),
    flag: lib.vectorFromArray(Array.from({ length: ROWS }, (_, i) => (i % 5 === 0 ? null : i % 2 === 0)), new lib.Bool()),
    at: lib.vectorFromArray(Array.from({ length: ROWS }, (_, i) => 1_700_000_000_000 + i), new lib.TimestampMillisecond()),
    tags: lib.vectorFromArray(Array.from({ length: ROWS }, (_, i) => (i % 3 === 2 ? null : ['t', String(i)])), new lib.List(field('item', new lib.Utf8()))),
    pos: lib.vectorFromArray(Array.from({ length: ROWS }, (_, i) => ({ x: i, y: `y${i}` })), new lib.Struct([field('x', new lib.Int32()), field('y', new lib.Utf8())])),
  });
}

/** Rows as plain values deepEqual compares exactly, whichever copy made them. */
function rows(table: Table): unknown[] {
  return table.toArray().map((row) => plainValue(row));
}

function plainValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return plainValue(json.call(value));
  if (Array.isArray(value)) return value.map(plainValue);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plainValue(item)]));
}

const expected = sampleTable(dd.arrow);

function assertSameRows(actual: Table, message: string): void {
  assert.ok(actual instanceof dd.arrow.Table, message);
  assert.deepEqual(actual.schema.fields.map((f) => String(f.type)), expected.schema.fields.map((f) => String(f.type)), message);
  assert.deepEqual(rows(actual), rows(expected), message);
}

for (const [copy, lib] of copies) {
  test(`fromArrow with a table from ${copy}: compute and count give its rows`, async () => {
    const df = dd.fromArrow(sampleTable(lib), { npartitions: 3 });
    assert.equal(df.npartitions, 3);
    assertSameRows(await df.compute(), copy);
    assert.equal(await df.count().compute(), ROWS);
    assert.deepEqual(rows(await df.filter((row: { word: string | null }) => row.word === 'spam').select(['word']).compute()),
      words.filter((word) => word === 'spam').map((word) => ({ word })));
  });

  test(`fromArrow with Arrow IPC bytes from ${copy}, stream and file format`, async () => {
    for (const format of ['stream', 'file'] as const) {
      const df = dd.fromArrow(lib.tableToIPC(sampleTable(lib), format), { npartitions: 2 });
      assertSameRows(await df.compute(), format);
    }
  });

  test(`a table from ${copy} as a task's argument reaches the task as a table`, async () => {
    const describe = delayed((input: { table: Table }) => ({ rows: input.table.numRows, word: input.table.getChild('word')?.get(3) as unknown }));
    assert.deepEqual(await describe({ table: sampleTable(lib) }).compute(), { rows: ROWS, word: 'spam' });
  });
}

test("a table of Loom's own copy as a task's argument reaches the task as a table", async () => {
  const rowCount = delayed((table: Table) => table.numRows);
  assert.equal(await rowCount(sampleTable(dd.arrow)).compute(), ROWS);
});

test('fromArrow refuses bytes that are not Arrow IPC, and values that are not tables, saying what it got', () => {
  assert.throws(() => dd.fromArrow(Buffer.from('id,name\n1,a\n')), (error: unknown) =>
    isLoomError(error, 'SERIALIZATION_FAILED') && /the bytes given to fromArrow are not Arrow IPC bytes/.test(error.message));
  assert.throws(() => dd.fromArrow(new Uint8Array(16)), (error: unknown) => isLoomError(error) && /not Arrow IPC/.test(error.message));
  assert.throws(() => dd.fromArrow({ rows: [1, 2] } as never), /fromArrow needs an Arrow table or Arrow IPC bytes, got an object \(Object\)/);
});

/**
 * A mapPartitions function building its result with apache-arrow 17 on the worker (resolved from this file). Its
 * type says Loom's Table: that is what the DataFrame's partitions are once the workers have read it.
 */
function withArrow17(table: Table, from: string): Promise<Table> {
  return import('node:module').then(({ createRequire }) => {
    const lib = createRequire(from)('apache-arrow-17') as Arrow;
    const word = table.getChild('word');
    const values = Array.from({ length: table.numRows }, (_, i) => word?.get(i) as string | null);
    return new lib.Table({
      word: lib.vectorFromArray(values, new lib.Dictionary(new lib.Utf8(), new lib.Int32())),
      body: lib.vectorFromArray(values.map((value, i) => `${value ?? 'none'} message ${i}`), new lib.Utf8()),
      label: lib.vectorFromArray(values.map((value) => (value === 'spam' ? 'spam' : 'ham')), new lib.Dictionary(new lib.Utf8(), new lib.Int8())),
      id: lib.vectorFromArray(Array.from({ length: table.numRows }, (_, i) => BigInt(i)), new lib.Int64()),
    }) as unknown as Table;
  });
}

test('mapPartitions returning an apache-arrow 17 table: compute, count and the steps fused after it read it', async () => {
  const df = dd.fromArrow(sampleTable(dd.arrow), { npartitions: 2 }).mapPartitions(withArrow17, { args: [import.meta.url] });
  const table = await df.compute();
  assert.ok(table instanceof dd.arrow.Table);
  assert.deepEqual(table.schema.fields.map((f) => String(f.type)), ['Dictionary<Int32, Utf8>', 'Utf8', 'Dictionary<Int8, Utf8>', 'Int64']);
  assert.deepEqual([...table.getChild('word')!], words);
  assert.equal(await df.count().compute(), ROWS);
  assert.deepEqual([...(await df.select(['label']).compute()).getChild('label')!], words.map((word) => (word === 'spam' ? 'spam' : 'ham')));
  assert.equal(await df.filter((row: { label: string }) => row.label === 'spam').count().compute(), words.filter((word) => word === 'spam').length);
});

test('train() on data from another apache-arrow copy: fromArrow of a CommonJS-build table, and mapPartitions to apache-arrow 17', async () => {
  const { client } = fixture;
  const lib = copies[0]![1];
  const texts = Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? `free prize ${i}` : `see you at ${i}`));
  const labels = texts.map((_, i) => (i % 2 === 0 ? 'spam' : 'ham'));
  const foreign = new lib.Table({
    body: lib.vectorFromArray(texts, new lib.Utf8()),
    label: lib.vectorFromArray(labels, new lib.Dictionary(new lib.Utf8(), new lib.Int32())),
  });
  const options = { text: 'body', label: 'label', model: charcnn({ length: 128, width: 4 }), batchSize: 16, epochs: 1, testFraction: 0 };
  const direct = await train(client, { ...options, data: dd.fromArrow(foreign, { npartitions: 2 }) });
  assert.deepEqual(direct.classes, ['ham', 'spam']);
  // Some rows may be held out (validation); the rest were read and trained on, in whole batches.
  assert.ok(direct.metrics.samples > 0 && direct.metrics.samples <= 64 && direct.metrics.samples % 16 === 0, String(direct.metrics.samples));
  const mapped = dd.fromArrow(sampleTable(dd.arrow), { npartitions: 2 }).mapPartitions(withArrow17, { args: [import.meta.url] });
  const result = await train(client, { ...options, batchSize: 4, data: mapped });
  assert.deepEqual(result.classes, ['ham', 'spam']);
  assert.ok(result.metrics.samples > 0 && result.metrics.samples <= ROWS, String(result.metrics.samples));
});
