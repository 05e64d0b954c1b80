// The Arrow IPC codec: every Arrow type Loom's partitions produce survives encodeValue/decodeValue with its
// type, nullability, nulls, values and schema metadata intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bool, DateDay, Dictionary, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8, LargeUtf8, List, RecordBatch,
  Schema, Table, TimestampMillisecond, Uint8, Utf8, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import { decodeValue, encodeValue } from '../src/index.js';
import { assertSameTable, plain } from './table-asserts.js';

function column(type: DataType, values: unknown[]): Vector {
  return vectorFromArray(values, type);
}

function roundTrip(table: Table): Table {
  const encoded = encodeValue(table);
  assert.equal(encoded.codec, 'arrow-ipc');
  // Bytes cross thread and process boundaries as plain Uint8Array views; decode from a copy like that.
  const decoded = decodeValue({ codec: 'arrow-ipc', bytes: new Uint8Array(encoded.bytes) });
  assert.ok(decoded instanceof Table);
  return decoded;
}

test('every Arrow type Loom produces round-trips with nulls in every column', () => {
  const table = new Table({
    i8: column(new Int8(), [1, null, -128]),
    i16: column(new Int16(), [300, -300, null]),
    i32: column(new Int32(), [null, 2 ** 31 - 1, -(2 ** 31)]),
    i64: column(new Int64(), [2n ** 62n, null, -5n]),
    u8: column(new Uint8(), [0, 255, null]),
    f32: column(new Float32(), [1.5, null, -0.25]),
    f64: column(new Float64(), [Math.PI, -1e300, null]),
    bool: column(new Bool(), [true, null, false]),
    utf8: column(new Utf8(), ['héllo', null, '']),
    large: column(new LargeUtf8(), [null, 'large', 'utf8 ✓']),
    ts: column(new TimestampMillisecond(), [1_700_000_000_123, null, 0]),
    date: column(new DateDay(), [null, Date.UTC(2024, 1, 29), Date.UTC(1970, 0, 1)]),
    dict: column(new Dictionary(new Utf8(), new Int32()), ['spam', 'ham', null]),
    chars: column(new FixedSizeList(4, new Field('item', new Int8(), true)), [[1, 2, 3, 4], null, [-1, 0, 127, -128]]),
    bytes: column(new FixedSizeList(2, new Field('item', new Uint8(), true)), [null, [0, 255], [7, 8]]),
    floats: column(new List(new Field('item', new Float64(), true)), [[1.5, 2.5], [], null]),
  });
  const decoded = roundTrip(table);
  assertSameTable(decoded, table);
  for (const field of table.schema.fields) assert.equal(decoded.getChild(field.name)?.nullCount, 1, field.name);
});

test('an empty table keeps its schema', () => {
  const schema = new Schema([new Field('id', new Int32(), true), new Field('body', new Utf8(), true)]);
  const table = new Table(schema);
  const decoded = roundTrip(table);
  assert.equal(decoded.numRows, 0);
  assertSameTable(decoded, table);
});

test('schema metadata survives (loom.skipped_rows travels with a partition)', () => {
  const base = new Table({ x: column(new Float64(), [1, 2]) });
  const schema = new Schema(base.schema.fields, new Map([['loom.skipped_rows', '3']]));
  const table = new Table(schema, base.batches.map((batch) => new RecordBatch(schema, batch.data)));
  const decoded = roundTrip(table);
  assert.equal(decoded.schema.metadata.get('loom.skipped_rows'), '3');
  assertSameTable(decoded, table);
});

test('a table of many record batches round-trips as one value', () => {
  const a = new Table({ x: column(new Int32(), [1, 2]) });
  const b = new Table({ x: column(new Int32(), [3, null]) });
  const table = a.concat(b);
  const decoded = roundTrip(table);
  assert.deepEqual(plain(decoded), { x: [1, 2, 3, null] });
});

test('values that are not tables keep the JSON and V8 codecs', () => {
  assert.equal(encodeValue({ a: 1 }).codec, 'json');
  assert.equal(encodeValue(new Float64Array([1])).codec, 'v8');
});
