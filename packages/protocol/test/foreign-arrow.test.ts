// Arrow tables from another copy of apache-arrow (the CommonJS build of Loom's own version, loaded through
// require, and apache-arrow 17 installed beside it): they are other classes at run time, yet every path that
// takes a table from user code must read them exactly as tables of Loom's own copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as loomArrow from 'apache-arrow';
import * as arrow17 from 'apache-arrow-17';
import {
  asLoomTable, decodeTaskArgs, decodeValue, encodeTaskArgs, encodeValue, isArrowTableLike, isLoomError, readArrowIpc,
} from '../src/index.js';
import { assertSameTable as assertSameRows, plain, type AnyTable } from './table-asserts.js';

type Arrow = typeof loomArrow;

const copies: ReadonlyArray<[string, Arrow]> = [
  ['the CommonJS build of the same version', createRequire(import.meta.url)('apache-arrow') as Arrow],
  ['apache-arrow 17', arrow17 as unknown as Arrow],
];

/** One table with every kind of column users hand over, built by `lib` from the same values whatever copy it is. */
function sampleTable(lib: Arrow, rows = [0, 1, 2, 3]): loomArrow.Table {
  const pick = <T>(values: T[]): T[] => rows.map((row) => values[row % values.length] as T);
  const field = (name: string, type: loomArrow.DataType) => new lib.Field(name, type, true);
  const columns: Record<string, loomArrow.Vector> = {
    dict: lib.vectorFromArray(pick(['spam', 'ham', null, 'spam']), new lib.Dictionary(new lib.Utf8(), new lib.Int32())),
    i64: lib.vectorFromArray(pick([2n ** 62n, null, -5n, 0n]), new lib.Int64()),
    i32: lib.vectorFromArray(pick([1, null, 3, -4]), new lib.Int32()),
    u8: lib.vectorFromArray(pick([0, 255, null, 7]), new lib.Uint8()),
    f64: lib.vectorFromArray(pick([Math.PI, null, -1e300, 0.5]), new lib.Float64()),
    f32: lib.vectorFromArray(pick([1.5, -0.25, null, 2]), new lib.Float32()),
    bool: lib.vectorFromArray(pick([true, null, false, true]), new lib.Bool()),
    utf8: lib.vectorFromArray(pick(['héllo', null, '', 'x']), new lib.Utf8()),
    large: lib.vectorFromArray(pick([null, 'large', 'utf8 ✓', 'y']), new lib.LargeUtf8()),
    ts: lib.vectorFromArray(pick([1_700_000_000_123, null, 0, -1000]), new lib.TimestampMillisecond()),
    tsz: lib.vectorFromArray(pick([1_700_000_000_123, 5, null, 0]), new lib.Timestamp(lib.TimeUnit.MICROSECOND, 'UTC')),
    date: lib.vectorFromArray(pick([null, Date.UTC(2024, 1, 29), Date.UTC(1970, 0, 1), 0]), new lib.DateDay()),
    list: lib.vectorFromArray(pick([[1.5, 2.5], [], null, [-1]]), new lib.List(field('item', new lib.Float64()))),
    chars: lib.vectorFromArray(pick([[1, 2], null, [-1, 0], [127, -128]]), new lib.FixedSizeList(2, field('item', new lib.Int8()))),
    struct: lib.vectorFromArray(
      pick([{ a: 1, b: 'x' }, null, { a: null, b: 'z' }, { a: 4, b: null }]),
      new lib.Struct([field('a', new lib.Int32()), field('b', new lib.Utf8())]),
    ),
    map: lib.vectorFromArray(
      pick([new Map([['k', 1]]), null, new Map(), new Map([['a', 2], ['b', null]])]),
      new lib.Map_(new lib.Field('entries', new lib.Struct([new lib.Field('key', new lib.Utf8(), false), field('value', new lib.Int32())]), false) as never),
    ),
  };
  const base = new lib.Table(columns);
  const schema = new lib.Schema(base.schema.fields, new Map([['origin', 'user']]));
  return new lib.Table(schema, base.batches.map((batch) => new lib.RecordBatch(schema, batch.data)));
}

function assertSameTable(actual: unknown, expected: loomArrow.Table): void {
  assertSameRows(actual, expected);
  for (const field of expected.schema.fields) {
    assert.equal((actual as loomArrow.Table).getChild(field.name)?.nullCount, expected.getChild(field.name)?.nullCount, `${field.name} nulls`);
  }
}

function roundTrip(value: unknown): unknown {
  const encoded = encodeValue(value);
  assert.equal(encoded.codec, 'arrow-ipc');
  return decodeValue({ codec: 'arrow-ipc', bytes: new Uint8Array(encoded.bytes) });
}

for (const [copy, lib] of copies) {
  test(`a task result table from ${copy} is encoded as Arrow IPC and decodes to the same table`, () => {
    assert.notEqual(lib.Table, loomArrow.Table, 'the test needs a different class');
    assertSameTable(roundTrip(sampleTable(lib)), sampleTable(loomArrow));
  });

  test(`a sliced, many-batch table from ${copy} keeps its rows`, () => {
    const foreign = sampleTable(lib).concat(sampleTable(lib, [3, 2, 1, 0, 1])).slice(2, 8);
    const expected = sampleTable(loomArrow).concat(sampleTable(loomArrow, [3, 2, 1, 0, 1])).slice(2, 8);
    assertSameTable(roundTrip(foreign), expected);
  });

  test(`an empty table from ${copy} keeps its schema`, () => {
    const foreign = sampleTable(lib).slice(0, 0);
    assertSameTable(roundTrip(foreign), sampleTable(loomArrow).slice(0, 0));
  });

  test(`a table from ${copy} becomes one of Loom's over the same buffers`, () => {
    const foreign = sampleTable(lib);
    assert.ok(isArrowTableLike(foreign));
    const table = asLoomTable(foreign, 'the table');
    assertSameTable(table, sampleTable(loomArrow));
    const buffer = (t: AnyTable, column: string) => (t as loomArrow.Table).getChild(column)?.data[0]?.values.buffer;
    for (const column of ['i64', 'f64', 'utf8', 'dict']) assert.equal(buffer(table as AnyTable, column), buffer(foreign, column), `${column} is not copied`);
  });

  test(`a dictionary shared by the batches of a table from ${copy} stays one dictionary`, () => {
    const one = sampleTable(lib);
    const foreign = new lib.Table(one.schema, [...one.batches, ...one.batches]);
    const table = asLoomTable(foreign, 'the table') as loomArrow.Table;
    const [first, second] = table.getChild('dict')?.data ?? [];
    assert.ok(first?.dictionary !== undefined && first.dictionary === second?.dictionary);
    const own = sampleTable(loomArrow);
    assertSameTable(roundTrip(foreign), new loomArrow.Table(own.schema, [...own.batches, ...own.batches]));
  });

  test(`Arrow IPC bytes from ${copy}, stream and file format, are read as the table`, () => {
    for (const format of ['stream', 'file'] as const) {
      const bytes = lib.tableToIPC(sampleTable(lib), format);
      assertSameTable(readArrowIpc(bytes, 'the bytes'), sampleTable(loomArrow));
      assertSameTable(readArrowIpc(Buffer.from(bytes), 'the bytes'), sampleTable(loomArrow));
    }
  });

  test(`a dense union column from ${copy} keeps its values`, () => {
    const union = (l: Arrow) => {
      const type = new l.DenseUnion([0, 1], [new l.Field('n', new l.Int32(), true), new l.Field('s', new l.Utf8(), true)]);
      const children = [l.vectorFromArray([5, 6], new l.Int32()).data[0], l.vectorFromArray(['x'], new l.Utf8()).data[0]];
      const data = l.makeData({ type, typeIds: Int8Array.from([0, 1, 0]), valueOffsets: Int32Array.from([0, 0, 1]), children: children as never });
      return new l.Table({ u: l.makeVector(data) });
    };
    const table = roundTrip(union(lib));
    assertSameTable(table, union(loomArrow));
    assert.deepEqual(plain(table as AnyTable), { u: [5, 'x', 6] });
  });

  test(`a table from ${copy} in a task's arguments reaches the task as a table`, () => {
    // The client's argument scan (arg-template.ts) finds the table and lifts it out of the template.
    const bytes = encodeTaskArgs([{ table: null }, 5], [], 'task', [{ path: [0, 'table'], table: sampleTable(lib) }]);
    const [arg, five] = decodeTaskArgs(bytes, []) as [{ table: unknown }, number];
    assertSameTable(arg.table, sampleTable(loomArrow));
    assert.equal(five, 5);
  });
}

test("a table of Loom's own copy in a task's arguments reaches the task as a table", () => {
  const [table] = decodeTaskArgs(encodeTaskArgs([null], [], 'task', [{ path: [0], table: sampleTable(loomArrow) }]), []);
  assertSameTable(table, sampleTable(loomArrow));
});

test('bytes that are not Arrow IPC fail and say what they found', () => {
  const stream = loomArrow.tableToIPC(sampleTable(loomArrow), 'stream');
  const file = loomArrow.tableToIPC(sampleTable(loomArrow), 'file');
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['no bytes', new Uint8Array(0), /0 bytes are too few/],
    ['JSON text', Buffer.from('{"id": 1, "name": "a"}'), /start with 7b 22 69 64/],
    ['zeros', new Uint8Array(64), /neither the "ARROW1" of the file format nor a stream's first message/],
    ['only an end-of-stream marker', Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0]), /stream's first message/],
    ['a continuation marker then garbage', Uint8Array.from([255, 255, 255, 255, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]), /cannot be read/],
    ['a stream cut inside a record batch', stream.subarray(0, stream.length - 40), /truncated|cannot be read/],
    ['a file without its footer', file.subarray(0, file.length - 10), /do not end as one/],
  ];
  for (const [name, bytes, reason] of cases) {
    assert.throws(() => readArrowIpc(bytes, 'the bytes given'), (error: unknown) =>
      isLoomError(error, 'SERIALIZATION_FAILED') && /^the bytes given are not Arrow IPC bytes: /.test(error.message) && reason.test(error.message), name);
  }
});

test('values shaped like tables but of no Arrow class keep their codecs', () => {
  const lookalike = { schema: { fields: [] }, batches: [], numRows: 0 };
  assert.equal(isArrowTableLike(lookalike), false);
  assert.equal(asLoomTable(lookalike, 'it'), undefined);
  assert.equal(encodeValue(lookalike).codec, 'json');
  assert.equal(asLoomTable(new Float64Array(2), 'it'), undefined);
});

/** A copy's table whose column 'x' has one node changed by `edit`, as a future layout might differ. */
function alteredTable(edit: (data: Record<string, unknown>) => void): unknown {
  const foreign = copies[0]![1].tableFromArrays({ x: Int32Array.from([1, 2, 3]) });
  edit(foreign.batches[0]!.data.children[0] as unknown as Record<string, unknown>);
  return foreign;
}

test('a table of another copy whose structure is not understood fails with a reason, not wrong rows', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['data of another type than its field', alteredTable((data) => { data['type'] = { typeId: 99 }; }),
      /column 'x' \(record batch 0\) holds data of Arrow type id 99 where its schema says Int32/],
    ['an unknown type id', (() => {
      const foreign = alteredTable(() => undefined) as loomArrow.Table;
      (foreign.schema.fields[0] as unknown as Record<string, unknown>)['type'] = { typeId: 99, toString: () => 'Float99' };
      return foreign;
    })(), /column 'x' has type Float99 \(Arrow type id 99\), which Loom's apache-arrow does not know/],
    ['values shorter than its length', alteredTable((data) => { data['values'] = Int32Array.from([1]); }),
      /column 'x' \(record batch 0\) \(Int32\): 1 values for 3 rows/],
    ['a buffer that is no typed array', alteredTable((data) => { data['values'] = [1, 2, 3]; }), /values buffer is not a typed array/],
    ['a validity bitmap too short', alteredTable((data) => { data['nullBitmap'] = new Uint8Array(0); data['_nullCount'] = 1; }),
      /validity bitmap covers 0 rows, not 3/],
  ];
  for (const [name, table, reason] of cases) {
    assert.throws(() => encodeValue(table, "the result of task 'f'"), (error: unknown) =>
      isLoomError(error, 'SERIALIZATION_FAILED') && error.message.startsWith("cannot read the result of task 'f', an Arrow table of another")
        && reason.test(error.message) && /Arrow IPC bytes/.test(error.message), name);
  }
});
