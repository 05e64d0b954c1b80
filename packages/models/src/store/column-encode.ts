// A training batch's columns (ModelColumns) written as a store file column by column: numbers copied (or
// used as they are when every row is listed), text encoded to UTF-8 in one call per column. The bytes are
// the ones encodeRows writes reading the same columns cell by cell (the test's reference), which cost the
// client ~1 s of CPU a 250,000-model run, beside the workers on the same cores.
import { Field, FixedSizeList, Float64, makeData, Utf8, type Data } from 'apache-arrow';
import type { ModelColumns } from './model-columns.js';
import { fillTrainedAt, storeFile } from './record-encode.js';
import { EXTRA_PREFIX, METRIC_OF_COLUMN, type RecordLayout } from './record-schema.js';

const RANGE_INDEX: ReadonlyMap<string, number> = new Map([['train_from', 0], ['train_to', 1], ['test_from', 2], ['test_to', 3]]);

/** The listed rows of checked columns (checkColumns) as an Arrow IPC file of one record batch. */
export function encodeColumns(columns: ModelColumns, layout: RecordLayout, trainedAtMs: number): Uint8Array {
  const { rows, ids, paramCount } = columns;
  const n = rows.length;
  // Rows are ascending and distinct, so listing as many rows as there are ids lists each one: no gather.
  const all = n === ids.length;
  const cellOf = (name: string): ((row: number) => string | undefined) => {
    if (name === 'id') return (row) => ids[row];
    if (name === 'family') return () => columns.family;
    if (name === 'family_key') return () => columns.familyKey;
    const key = name.slice(EXTRA_PREFIX.length);
    return (row) => {
      const cells = columns.extra[row] as Readonly<Record<string, string>>;
      return Object.hasOwn(cells, key) ? cells[key] : undefined;
    };
  };
  const params = all ? columns.params : new Float64Array(n * paramCount);
  if (!all) for (let k = 0; k < n; k++) params.set(columns.params.subarray(rows[k]! * paramCount, (rows[k]! + 1) * paramCount), k * paramCount);
  const item = new Field<Float64>('item', new Float64(), false);
  const trainedAt = new BigInt64Array(n);
  fillTrainedAt(new Int32Array(trainedAt.buffer), n, trainedAtMs);
  return storeFile(n, layout, {
    text: (name) => utf8Column(rows, cellOf(name)),
    params: makeData({ type: new FixedSizeList<Float64>(paramCount, item), length: n, nullCount: 0, child: makeData({ type: new Float64(), length: params.length, data: params }) }),
    floats: (name) => {
      const values = new Float64Array(n);
      const range = RANGE_INDEX.get(name);
      if (range !== undefined) for (let k = 0; k < n; k++) values[k] = columns.ranges[4 * rows[k]! + range]!;
      else gather((columns.floatMetrics as Record<string, Float64Array>)[METRIC_OF_COLUMN.get(name) as string] as Float64Array, rows, values);
      return values;
    },
    counts: (name) => gather((columns.countMetrics as Record<string, Int32Array>)[METRIC_OF_COLUMN.get(name) as string] as Int32Array, rows, new Int32Array(n)),
    trainedAt,
  });
}

function gather<T extends Float64Array | Int32Array>(column: T, rows: Uint32Array, into: T): T {
  for (let k = 0; k < rows.length; k++) into[k] = column[rows[k]!]!;
  return into;
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
