// The lazy row view user row functions get: the same values (and JS types) a plain row built from every column
// held, for every Arrow type, across record batches and sliced batches; plain-object behaviour (keys, spread,
// JSON, assignment); reuse across rows; errors naming the row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Binary, Bool, DateDay, DateMillisecond, Decimal, Dictionary, Field, FixedSizeList, Float16, Float32, Float64, Int32, Int64, Int8,
  LargeUtf8, List, makeData, RecordBatch, Schema, Struct, Table, TimestampMicrosecond, TimestampMillisecond, TimestampSecond,
  Uint32, Uint8, Utf8, vectorFromArray, Vector, type DataType,
} from 'apache-arrow';
import { assignColumns, filterRows, PartitionError } from '../src/index.js';
import { decodeUtf8Bytes } from '../src/row-view.js';

const seen = (globalThis as { loomSeen?: unknown[] });

/** What the old row builder gave a row function: every column's iterated value, undefined as null. */
function plainRows(table: Table): Array<Record<string, unknown>> {
  const names = table.schema.fields.map((field) => field.name);
  const values = names.map((_, c) => Array.from(table.getChildAt(c) as Vector as Iterable<unknown>, (v) => v ?? null));
  return Array.from({ length: table.numRows }, (_, i) => Object.fromEntries(names.map((name, c) => [name, (values[c] as unknown[])[i]])));
}

/** Values in a form deepEqual compares, with their JS kind kept (a Vector must stay a Vector, not an array). */
function described(value: unknown): unknown {
  if (value === null) return null;
  const kind = typeof value === 'object' ? (value as object).constructor.name : typeof value;
  if (typeof value === 'bigint') return [kind, String(value)];
  if (value instanceof Vector) return [kind, Array.from(value as Iterable<unknown>, described)];
  if (ArrayBuffer.isView(value)) return [kind, Array.from(value as unknown as ArrayLike<unknown>, described)];
  if (typeof value === 'object') return [kind, JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))];
  return [kind, value];
}

const COLUMNS: Array<[string, DataType, (i: number) => unknown]> = [
  ['i8', new Int8(), (i) => (i % 200) - 100],
  ['i32', new Int32(), (i) => i * 1000 - 7],
  ['u32', new Uint32(), (i) => (i * 2654435761) >>> 0],
  ['i64', new Int64(), (i) => BigInt(i) * 10n ** 15n],
  ['f16', new Float16(), (i) => i / 2],
  ['f32', new Float32(), (i) => Math.fround(i / 3)],
  ['f64', new Float64(), (i) => (i === 4 ? Number.NaN : i / 7)],
  ['bool', new Bool(), (i) => i % 3 === 0],
  ['text', new Utf8(), (i) => ['', 'spam', 'naïve', 'x'.repeat(40), '\uFEFFbom', 'ab', 'c'][i % 7]],
  ['large', new LargeUtf8(), (i) => `l${i}`],
  ['bytes', new Binary(), (i) => Uint8Array.from([i, i + 1].slice(0, i % 3))],
  ['day', new DateDay(), (i) => (i - 20) * 86400000],
  ['dateMs', new DateMillisecond(), (i) => i * 1234567],
  ['ts', new TimestampMillisecond(), (i) => 1.7e12 + i * 1001 - (i % 2) * 3.4e12],
  ['tsSecond', new TimestampSecond(), (i) => i * 5000],
  ['tsMicro', new TimestampMicrosecond(), (i) => 1.7e12 + i],
  ['dec', new Decimal(2, 10, 128), (i) => Uint32Array.from([i, 0, 0, 0])],
  ['dict', new Dictionary(new Utf8(), new Int32()), (i) => ['ham', 'spam'][i % 2]],
  ['fsl', new FixedSizeList(2, new Field('item', new Uint8(), true)), (i) => [i, 255 - i]],
  ['list', new List(new Field('item', new Float64(), true)), (i) => Array.from({ length: i % 3 }, (_, k) => i + k)],
  ['struct', new Struct([new Field('a', new Int32(), true)]), (i) => ({ a: i })],
];

function table(rows: number, nullEvery: number): Table {
  const schema = new Schema(COLUMNS.map(([name, type]) => new Field(name, type, true)));
  const sizes = [Math.floor(rows / 3), 0, rows - Math.floor(rows / 3)];
  let start = 0;
  const batches = sizes.map((size) => {
    const children = COLUMNS.map(([, type, value], c) =>
      vectorFromArray(Array.from({ length: size }, (_, k) => ((start + k + c) % nullEvery === 0 ? null : value(start + k))), type).data[0]);
    start += size;
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: size, nullCount: 0, children: children as never }));
  });
  return new Table(schema, batches);
}

test('row functions see the values (and JS types) a plain row of every column held', () => {
  const whole = table(40, 4);
  for (const source of [whole, whole.slice(5, 33)]) {
    seen.loomSeen = [];
    const out = filterRows(source, '(row) => { globalThis.loomSeen.push(Object.fromEntries(Object.keys(row).map((k) => [k, row[k]]))); return true; }');
    assert.equal(out, source); // every row kept: the table itself
    const expected = plainRows(source).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, described(v)])));
    const actual = (seen.loomSeen as Array<Record<string, unknown>>).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, described(v)])));
    assert.deepEqual(actual, expected);
  }
  delete seen.loomSeen;
});

test('the row behaves as a plain object: keys, spread, JSON, in, assignment for the current row only', () => {
  const source = new Table({ id: vectorFromArray([1, 2, 3], new Int32()), body: vectorFromArray(['a', null, 'c'], new Utf8()) });
  const out = assignColumns(source, {
    keys: '(row) => Object.keys(row).join(",")',
    spread: '(row) => JSON.stringify({ ...row })',
    json: '(row) => JSON.stringify(row)',
    has: '(row) => "body" in row && !("nope" in row)',
    // Assigning a column is seen by later functions on the same row, and not by the next row.
    bumped: '(row) => { const before = row.id; row.id = before * 10; return row.id + before; }',
    after: '(row) => row.id',
  });
  const column = (name: string) => Array.from(out.getChild(name) as Vector as Iterable<unknown>);
  assert.deepEqual(column('keys'), ['id,body', 'id,body', 'id,body']);
  assert.deepEqual(column('spread'), ['{"id":1,"body":"a"}', '{"id":2,"body":null}', '{"id":3,"body":"c"}']);
  assert.deepEqual(column('json'), column('spread'));
  assert.deepEqual(column('has'), [true, true, true]);
  assert.deepEqual(column('bumped'), [11, 22, 33]);
  assert.deepEqual(column('after'), [10, 20, 30]);
  assert.deepEqual(column('id'), [1, 2, 3]);
});

test('one row object is reused; a kept reference reads the current row, values read out stay right', () => {
  const source = new Table({ id: vectorFromArray([1, 2, 3, 4], new Int32()) });
  seen.loomSeen = [];
  const out = filterRows(source, '(row) => { globalThis.loomSeen.push([row, row.id]); return row.id % 2 === 0; }');
  const kept = seen.loomSeen as Array<[unknown, number]>;
  assert.equal(new Set(kept.map(([row]) => row)).size, 1);
  assert.deepEqual(kept.map(([, id]) => id), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(out.getChild('id') as Vector as Iterable<unknown>), [2, 4]);
  delete seen.loomSeen;
});

test('a failing row function names the row index and its values; a nested call gets its own row', () => {
  const source = new Table({ id: vectorFromArray([1, 2, 3], new Int32()), big: vectorFromArray([1n, 2n, 3n], new Int64()) })
    .concat(new Table({ id: vectorFromArray([4, 5], new Int32()), big: vectorFromArray([4n, 5n], new Int64()) }));
  assert.throws(() => filterRows(source, '(row) => { if (row.id === 4) throw new Error("boom"); return true; }'), (error: unknown) =>
    error instanceof PartitionError && error.code === 'USER_FUNCTION_FAILED' &&
    error.message === 'row function (row) => { if (row.id === 4) throw new Error("boom"); return true; } failed on row 3 {"id":4,"big":"4"}: boom');
  assert.throws(() => assignColumns(source, { ok: '(row) => 1', bad: '(row) => row.nope.x' }), /row function \(row\) => row\.nope\.x failed on row 0/);
  // A row function running filterRows itself (on the same schema) must not disturb the outer row.
  (globalThis as { loomFilter?: unknown }).loomFilter = filterRows;
  (globalThis as { loomInner?: unknown }).loomInner = source;
  const out = filterRows(source, '(row) => { const before = row.id; globalThis.loomFilter(globalThis.loomInner, (r) => true); return row.id === before && before > 2; }'.replace('(r) => true', '"(r) => r.id > 0"'));
  assert.deepEqual(Array.from(out.getChild('id') as Vector as Iterable<unknown>), [3, 4, 5]);
  delete (globalThis as { loomFilter?: unknown }).loomFilter;
  delete (globalThis as { loomInner?: unknown }).loomInner;
});

test('UTF-8 decoding equals TextDecoder for any bytes (invalid sequences, byte-order marks, lengths 0-40)', () => {
  const decoder = new TextDecoder('utf-8');
  let state = 7;
  const next = () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
  const interesting = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xbb, 0xf0, 0xf4, 0xf5, 0xff];
  for (let n = 0; n < 2000; n++) {
    const length = n % 41;
    const bytes = Uint8Array.from({ length }, () => (next() & 1 ? (interesting[next() % interesting.length] as number) : next() & 0x7f));
    if (n % 5 === 0 && length >= 3) bytes.set([0xef, 0xbb, 0xbf], 0);
    assert.equal(decodeUtf8Bytes(bytes), decoder.decode(bytes), `bytes ${Array.from(bytes).join(',')}`);
  }
});
