// A training batch's columns (ModelColumns) written as a store file column by column: numbers copied (or
// used as they are when every row is listed), text encoded to UTF-8 in one call per column. The bytes are
// the ones encodeRows writes reading the same columns cell by cell (the test's reference), which cost the
// client ~1 s of CPU a 250,000-model run, beside the workers on the same cores.
import { Field, FixedSizeList, Float64, Int32, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, TimestampMillisecond, Utf8, type Data, type DataType } from 'apache-arrow';
import type { ModelColumns } from './model-columns.js';
import { fillTrainedAt } from './record-encode.js';
import { COUNT_COLUMNS, EXTRA_PREFIX, FLOAT_COLUMNS, FORMAT_KEY, FORMAT_VERSION, METRIC_OF_COLUMN, TEXT_COLUMNS, TRAINED_AT, type RecordLayout } from './record-schema.js';

const RANGE_INDEX: ReadonlyMap<string, number> = new Map([['train_from', 0], ['train_to', 1], ['test_from', 2], ['test_to', 3]]);

/** The listed rows of checked columns (checkColumns) as an Arrow IPC file of one record batch. */
export function encodeColumns(columns: ModelColumns, layout: RecordLayout, trainedAtMs: number): Uint8Array {
  const { rows, ids, paramCount } = columns;
  const n = rows.length;
  // Rows are ascending and distinct, so listing as many rows as there are ids lists each one: no gather.
  const all = n === ids.length;
  const fields: Field[] = [];
  const data: Data[] = [];
  const add = (name: string, type: DataType, column: Data, nullable = false): void => {
    fields.push(new Field(name, type, nullable));
    data.push(column);
  };
  const texts: Record<string, (row: number) => string | undefined> = {
    id: (row) => ids[row],
    family: () => columns.family,
    family_key: () => columns.familyKey,
  };
  for (const [name] of TEXT_COLUMNS) add(name, new Utf8(), utf8Column(rows, texts[name] as (row: number) => string | undefined));
  const params = all ? columns.params : new Float64Array(n * paramCount);
  if (!all) for (let k = 0; k < n; k++) params.set(columns.params.subarray(rows[k]! * paramCount, (rows[k]! + 1) * paramCount), k * paramCount);
  const item = new Field<Float64>('item', new Float64(), false);
  add('params', new FixedSizeList<Float64>(paramCount, item), makeData({ type: new FixedSizeList<Float64>(paramCount, item), length: n, nullCount: 0, child: makeData({ type: new Float64(), length: params.length, data: params }) }));
  for (const [name] of FLOAT_COLUMNS) {
    const range = RANGE_INDEX.get(name);
    const values = new Float64Array(n);
    if (range !== undefined) for (let k = 0; k < n; k++) values[k] = columns.ranges[4 * rows[k]! + range]!;
    else gather((columns.floatMetrics as Record<string, Float64Array>)[METRIC_OF_COLUMN.get(name) as string] as Float64Array, rows, values);
    add(name, new Float64(), makeData({ type: new Float64(), length: n, data: values }));
  }
  for (const [name] of COUNT_COLUMNS) {
    const values = new Int32Array(n);
    gather((columns.countMetrics as Record<string, Int32Array>)[METRIC_OF_COLUMN.get(name) as string] as Int32Array, rows, values);
    add(name, new Int32(), makeData({ type: new Int32(), length: n, data: values }));
  }
  const trainedAt = new BigInt64Array(n);
  fillTrainedAt(new Int32Array(trainedAt.buffer), n, trainedAtMs);
  add(TRAINED_AT, new TimestampMillisecond(), makeData({ type: new TimestampMillisecond(), length: n, data: trainedAt }));
  for (const key of layout.extraKeys) {
    add(`${EXTRA_PREFIX}${key}`, new Utf8(), utf8Column(rows, (row) => {
      const cells = columns.extra[row] as Readonly<Record<string, string>>;
      return Object.hasOwn(cells, key) ? cells[key] : undefined;
    }), true);
  }
  const schema = new Schema(fields, new Map([[FORMAT_KEY, FORMAT_VERSION]]));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children: data }));
  return tableToIPC(new Table(schema, [batch]), 'file');
}

function gather<T extends Float64Array | Int32Array>(column: T, rows: Uint32Array, into: T): void {
  for (let k = 0; k < rows.length; k++) into[k] = column[rows[k]!]!;
}

/** A Utf8 column of the listed rows' cells (undefined: null), encoded in one call. */
function utf8Column(rows: Uint32Array, cell: (row: number) => string | undefined): Data {
  const n = rows.length;
  const cells = new Array<string>(n);
  let nulls = 0;
  let validity: Uint8Array | undefined;
  for (let k = 0; k < n; k++) {
    const text = cell(rows[k]!);
    if (text === undefined) {
      nulls++;
      validity ??= new Uint8Array((n + 7) >> 3).fill(0xff);
      validity[k >> 3] = validity[k >> 3]! & ~(1 << (k & 7));
      cells[k] = '';
    } else {
      cells[k] = text;
    }
  }
  const joined = cells.join('');
  let bytes = Buffer.from(joined, 'utf8');
  const offsets = new Int32Array(n + 1);
  if (bytes.length === joined.length) {
    // All ASCII (a byte per UTF-16 unit): string lengths are byte lengths.
    for (let k = 0; k < n; k++) offsets[k + 1] = offsets[k]! + cells[k]!.length;
  } else {
    // Cell by cell, as encodeRows does: a lone surrogate at a cell's end must not pair with the next cell's.
    for (let k = 0; k < n; k++) offsets[k + 1] = offsets[k]! + Buffer.byteLength(cells[k]!, 'utf8');
    bytes = Buffer.allocUnsafe(offsets[n]!);
    for (let k = 0; k < n; k++) bytes.write(cells[k]!, offsets[k]!, 'utf8');
  }
  if (validity !== undefined && n % 8 !== 0) validity[n >> 3] = validity[n >> 3]! & ((1 << (n & 7)) - 1);
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  return makeData({ type: new Utf8(), length: n, nullCount: nulls, valueOffsets: offsets, data: view, ...(validity ? { nullBitmap: validity } : {}) });
}
