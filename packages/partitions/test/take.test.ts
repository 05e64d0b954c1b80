// The column-wise take kernel: every Arrow type, with nulls, several and sliced record batches, empty, full,
// unordered and repeated selections; results equal Vector.get on the source, the builder-based take, and
// survive the Arrow IPC codec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Binary, Bool, DateDay, DateMillisecond, Decimal, Dictionary, DurationMillisecond, DurationNanosecond, Field, FixedSizeBinary,
  FixedSizeList, Float16, Float32, Float64, Int16, Int32, Int64, Int8, IntervalDayTime, IntervalYearMonth, LargeBinary, LargeList,
  LargeUtf8, List, makeData, Map_, Null, RecordBatch, Schema, Struct, Table, TimeMicrosecond, TimeMillisecond, TimeSecond, TimestampMicrosecond,
  TimestampMillisecond, TimestampNanosecond, TimestampSecond, Uint16, Uint32, Uint64, Uint8, Utf8, vectorFromArray, Vector,
  tableFromIPC, tableToIPC, Utf8View, type DataType,
} from 'apache-arrow';
import { decodeValue, encodeValue } from '@loom/protocol';
import { takeRows, takeRowsByBuilders } from '../src/take.js';

/** Values as plain data, comparable with deepEqual (bigints and byte arrays included). */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Vector) return Array.from(value as Iterable<unknown>, plain);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>, plain);
  if (value instanceof Map) return Array.from(value.entries(), ([k, v]) => [plain(k), plain(v)]);
  if (typeof value === 'object') {
    const json = (value as { toJSON?: () => unknown }).toJSON?.();
    if (json !== undefined && json !== value) {
      if (typeof json !== 'object' || json === null) return json;
      return Object.fromEntries(Object.entries(json as object).map(([k, v]) => [k, plain(v)]));
    }
    return String(value);
  }
  return value;
}

function columnValues(table: Table): unknown[][] {
  return table.schema.fields.map((_, c) => {
    const vector = table.getChildAt(c) as Vector;
    return Array.from({ length: table.numRows }, (_, i) => plain(vector.get(i)));
  });
}

/** A small deterministic generator, so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

interface Spec {
  type: DataType;
  value: (i: number) => unknown;
  /**
   * Compare with the builder-based take: the flat types Loom produces. (That take turned list items into nulls:
   * builders cannot append the Vectors that Vector.get returns for lists, so lists are checked against get only.)
   */
  builder?: boolean;
}

const bytes = (i: number, n: number) => Uint8Array.from({ length: n }, (_, k) => (i * 31 + k * 7) & 0xff);
const text = (i: number) => ['', 'a', 'spam', 'naïve café', 'x'.repeat(70 + (i % 5)), '日本語テキスト', '\uFEFFbom'][i % 7] as string;

const SPECS: Record<string, Spec> = {
  int8: { type: new Int8(), value: (i) => (i % 256) - 128, builder: true },
  int16: { type: new Int16(), value: (i) => i * 37 - 9000, builder: true },
  int32: { type: new Int32(), value: (i) => i * 100003 - 2 ** 30, builder: true },
  int64: { type: new Int64(), value: (i) => BigInt(i) * 123456789012345n - 2n ** 62n, builder: true },
  uint8: { type: new Uint8(), value: (i) => (i * 7) & 0xff, builder: true },
  uint16: { type: new Uint16(), value: (i) => (i * 977) & 0xffff },
  uint32: { type: new Uint32(), value: (i) => (i * 2654435761) >>> 0 },
  uint64: { type: new Uint64(), value: (i) => BigInt(i) * 18446744073709551n },
  float16: { type: new Float16(), value: (i) => i / 4 },
  float32: { type: new Float32(), value: (i) => Math.fround(i * 1.5 - 10), builder: true },
  float64: { type: new Float64(), value: (i) => (i % 11 === 3 ? Number.NaN : i * 0.1 - 3), builder: true },
  bool: { type: new Bool(), value: (i) => i % 3 === 0, builder: true },
  utf8: { type: new Utf8(), value: text, builder: true },
  largeUtf8: { type: new LargeUtf8(), value: text },
  binary: { type: new Binary(), value: (i) => bytes(i, i % 9), builder: true },
  largeBinary: { type: new LargeBinary(), value: (i) => bytes(i, i % 60) },
  fixedSizeBinary: { type: new FixedSizeBinary(5), value: (i) => bytes(i, 5) },
  dateDay: { type: new DateDay(), value: (i) => (i - 50) * 86400000, builder: true },
  dateMillisecond: { type: new DateMillisecond(), value: (i) => (i - 50) * 86400123 },
  timestampSecond: { type: new TimestampSecond(), value: (i) => (i * 1000003 - 5e6) * 1000 },
  timestampMillisecond: { type: new TimestampMillisecond(), value: (i) => 1.7e12 + i * 1234567 - 5e14, builder: true },
  timestampMicrosecond: { type: new TimestampMicrosecond(), value: (i) => 1.7e12 + i },
  timestampNanosecond: { type: new TimestampNanosecond(), value: (i) => 1.7e12 + i },
  timeSecond: { type: new TimeSecond(), value: (i) => i * 13 },
  timeMillisecond: { type: new TimeMillisecond(), value: (i) => i * 1301 },
  timeMicrosecond: { type: new TimeMicrosecond(), value: (i) => BigInt(i) * 1301001n },
  decimal: { type: new Decimal(2, 20, 128), value: (i) => Uint32Array.from([i * 7, i, 0, i % 2 ? 0xffffffff : 0]) },
  durationMillisecond: { type: new DurationMillisecond(), value: (i) => BigInt(i * 1000 - 7) },
  durationNanosecond: { type: new DurationNanosecond(), value: (i) => BigInt(i) * 10n ** 12n },
  intervalDayTime: { type: new IntervalDayTime(), value: (i) => Int32Array.from([i, -i * 1000]) },
  intervalYearMonth: { type: new IntervalYearMonth(), value: (i) => [i % 20, i % 12] },
  dictionary: { type: new Dictionary(new Utf8(), new Int32()), value: (i) => ['ham', 'spam', 'eggs'][i % 3] },
  fixedSizeListUint8: { type: new FixedSizeList(3, new Field('item', new Uint8(), true)), value: (i) => [i & 0xff, (i * 3) & 0xff, i % 4 === 1 ? null : 7] },
  fixedSizeListInt8: { type: new FixedSizeList(2, new Field('item', new Int8(), true)), value: (i) => [(i % 200) - 100, -1] },
  fixedSizeListFloat32: { type: new FixedSizeList(4, new Field('item', new Float32(), false)), value: (i) => [i, i + 0.5, -i, 0] },
  listFloat64: { type: new List(new Field('item', new Float64(), true)), value: (i) => Array.from({ length: i % 4 }, (_, k) => (k === 1 ? null : i + k / 8)) },
  listUint8: { type: new List(new Field('item', new Uint8(), true)), value: (i) => Array.from({ length: i % 6 }, (_, k) => (i + k) & 0xff) },
  listUtf8: { type: new List(new Field('item', new Utf8(), true)), value: (i) => Array.from({ length: i % 3 }, (_, k) => text(i + k)) },
  largeList: { type: new LargeList(new Field('item', new Int32(), true)), value: (i) => Array.from({ length: i % 5 }, (_, k) => i * k) },
  struct: {
    type: new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true), new Field('c', new Bool(), true)]),
    value: (i) => ({ a: i % 7 === 2 ? null : i, b: text(i), c: i % 2 === 0 }),
  },
  map: { type: new Map_(new Field('entries', new Struct([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]), false) as never), value: (i) => new Map(Array.from({ length: i % 3 }, (_, k) => [`k${k}`, i + k])) },
  null: { type: new Null(), value: () => null },
  // Not copied by the kernel: falls back to the builder path.
  utf8View: { type: new Utf8View(), value: text, builder: true },
};

/** A table of one column of `spec` in several record batches (one empty, one without nulls), rows 0..n-1. */
function chunked(spec: Spec, nulls: boolean): Table {
  const sizes = [37, 0, 50, 21, 8];
  let i = 0;
  const schema = new Schema([new Field('x', spec.type, true)]);
  const batches = sizes.map((size, b) => {
    const values = Array.from({ length: size }, () => {
      const row = i++;
      return nulls && b !== 2 && row % 5 === 1 ? null : spec.value(row);
    });
    const data = vectorFromArray(values, spec.type).data;
    assert.equal(data.length, 1);
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: size, nullCount: 0, children: data as never }));
  });
  return new Table(schema, batches);
}

function selections(n: number, seed: number): Array<[string, number[]]> {
  const next = random(seed);
  const ascending: number[] = [];
  for (let i = 0; i < n; i++) if (next() < 0.45) ascending.push(i);
  const scattered = Array.from({ length: 40 }, () => Math.floor(next() * n));
  return [
    ['empty', []],
    ['all', Array.from({ length: n }, (_, i) => i)],
    ['ascending subset', ascending],
    ['unordered with repeats', scattered],
    ['first and last', [0, n - 1]],
  ];
}

function expectedOf(table: Table, indices: number[]): unknown[][] {
  return table.schema.fields.map((_, c) => {
    const vector = table.getChildAt(c) as Vector;
    return indices.map((i) => plain(vector.get(i)));
  });
}

for (const [name, spec] of Object.entries(SPECS)) {
  test(`take: ${name}`, () => {
    for (const nulls of [false, true]) {
      const whole = chunked(spec, nulls);
      // A sliced table starts mid-batch: its Data have offsets (bits of bool and validity start mid-byte).
      for (const table of [whole, whole.slice(3, whole.numRows - 2)]) {
        for (const [label, indices] of selections(table.numRows, name.length * 7 + (nulls ? 1 : 0))) {
          const context = `${name}, nulls ${nulls}, ${table === whole ? 'whole' : 'sliced'}, ${label}`;
          const out = takeRows(table, indices);
          assert.equal(out.numRows, indices.length, context);
          assert.equal(out.batches.length, 1, context);
          assert.equal(String(out.schema.fields[0]?.type), String(spec.type), context);
          const expected = expectedOf(table, indices);
          assert.deepEqual(columnValues(out), expected, context);
          const column = out.getChildAt(0) as Vector;
          assert.equal(column.nullCount, (expected[0] as unknown[]).filter((v) => v === null).length, `${context}: null count`);
          assert.deepEqual(columnValues(tableFromIPC(tableToIPC(out))), expected, `${context}: after IPC`);
          if (spec.builder) assert.deepEqual(columnValues(out), columnValues(takeRowsByBuilders(table, indices)), `${context}: builder take`);
        }
      }
    }
  });
}

test('take: a whole table of Loom column types against the builder take, through the Loom codec', () => {
  const columns = Object.fromEntries(Object.entries(SPECS).filter(([, spec]) => spec.builder).map(([name, spec]) => [name, spec]));
  const n = 300;
  const next = random(42);
  const table = new Table(Object.fromEntries(Object.entries(columns).map(([name, spec]) =>
    [name, vectorFromArray(Array.from({ length: n }, (_, i) => (next() < 0.2 ? null : spec.value(i))), spec.type)])));
  const twoBatches = table.slice(0, 120).concat(table.slice(120));
  const metadata = new Map([['loom.skipped_rows', '4']]);
  const withMetaSchema = new Schema(twoBatches.schema.fields, metadata);
  const withMeta = new Table(withMetaSchema, twoBatches.batches.map((b) => new RecordBatch(withMetaSchema, b.data)));
  const indices = Array.from({ length: n }, (_, i) => i).filter(() => next() < 0.5);
  const out = takeRows(withMeta, Int32Array.from(indices));
  assert.equal(out.schema.metadata.get('loom.skipped_rows'), '4');
  assert.deepEqual(columnValues(out), columnValues(takeRowsByBuilders(withMeta, indices)));
  assert.deepEqual(columnValues(decodeValue(encodeValue(out)) as Table), columnValues(out));
});

test('take: selections as Int32Array, Uint32Array and number[] agree; bad indices are refused', () => {
  const table = chunked(SPECS['utf8'] as Spec, true);
  const indices = [0, 2, 3, 9, 40, 41, 100, table.numRows - 1];
  const expected = columnValues(takeRows(table, indices));
  assert.deepEqual(columnValues(takeRows(table, Int32Array.from(indices))), expected);
  assert.deepEqual(columnValues(takeRows(table, Uint32Array.from(indices))), expected);
  assert.throws(() => takeRows(table, [table.numRows]), /row index \d+ is out of range/);
  assert.throws(() => takeRows(table, [-1]), /out of range/);
  assert.throws(() => takeRows(table, [1.5]), /out of range/);
});

test('take: a dictionary column keeps its dictionary; a fixed-size uint8 list copies child slices', () => {
  // Batches cut from one vector share its dictionary (as batches of one IPC stream do).
  const vector = vectorFromArray(Array.from({ length: 90 }, (_, i) => (i % 7 === 1 ? null : ['ham', 'spam', 'eggs'][i % 3])), new Dictionary(new Utf8(), new Int32()));
  const schema = new Schema([new Field('x', vector.type, true)]);
  const whole = vector.data[0]!;
  const table = new Table(schema, [whole.slice(0, 40), whole.slice(40, 50)].map((data) =>
    new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: data.length, nullCount: 0, children: [data] as never }))));
  const indices = [1, 2, 3, 44, 45, 49];
  const out = takeRows(table, indices);
  const data = (out.getChildAt(0) as Vector).data[0]!;
  assert.equal(data.dictionary, whole.dictionary);
  assert.deepEqual(columnValues(out), expectedOf(table, indices));
  assert.deepEqual(columnValues(out)[0], [null, 'eggs', 'ham', 'eggs', 'ham', 'spam']);
  const lists = chunked(SPECS['fixedSizeListUint8'] as Spec, false);
  const taken = takeRows(lists, [6, 70]);
  const child = (taken.getChildAt(0) as Vector).data[0]!.children[0]!;
  assert.equal(child.length, 6);
  assert.deepEqual(Array.from(child.values as Uint8Array), [6, 18, 7, 70, 210, 7]);
});
