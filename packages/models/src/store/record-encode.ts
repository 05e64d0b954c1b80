// Writing store files. The encoder fills each column's buffers from a RowSource: records as trained
// (writeBatch) or rows gathered from files already written (publish, carry-forward, across layouts), which
// copies bytes and numbers column by column without building an object per model. Batches given as columns
// (writeColumns) and runs of one layout have their own column-wise encoders (column-encode, record-concat);
// all three assemble the file through storeFile, which owns the columns' order.
import {
  Field,
  FixedSizeList,
  Float64,
  Int32,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  TimestampMillisecond,
  Utf8,
  type Data,
} from 'apache-arrow';
import type { ModelRecord } from './model-record.js';
import type { RowRun } from './record-concat.js';
import type { RecordsView, Utf8Column } from './record-view.js';
import { COUNT_COLUMNS, EXTRA_PREFIX, FLOAT_COLUMNS, FORMAT_KEY, FORMAT_VERSION, TEXT_COLUMNS, TRAINED_AT, type RecordLayout } from './record-schema.js';

/** Column-wise access to the rows being encoded. */
export interface RowSource {
  readonly length: number;
  /** Byte length of each cell of a utf8 column (-1 for null), and a writer of a cell's bytes. */
  text(name: string): { bytes(i: number): number; write(i: number, target: Buffer, at: number): number };
  number(name: string): (i: number) => number;
  params(i: number): Float64Array;
  /** Writes trained_at of every row as little-endian int32 pairs. */
  trainedAt(words: Int32Array): void;
}

/** Records as trained, all written at `trainedAt`. */
export class RecordRows implements RowSource {
  constructor(
    readonly records: readonly ModelRecord[],
    readonly trainedAtMs: number,
  ) {}

  get length(): number {
    return this.records.length;
  }

  text(name: string): ReturnType<RowSource['text']> {
    const builtin = TEXT_COLUMNS.find(([column]) => column === name)?.[1];
    const key = name.slice(EXTRA_PREFIX.length);
    const cell = builtin ?? ((r: ModelRecord): string | undefined => (Object.hasOwn(r.extra, key) ? r.extra[key] : undefined));
    return {
      bytes: (i) => {
        const value = cell(this.records[i] as ModelRecord);
        return value === undefined ? -1 : Buffer.byteLength(value, 'utf8');
      },
      write: (i, target, at) => target.write(cell(this.records[i] as ModelRecord) as string, at, 'utf8'),
    };
  }

  number(name: string): (i: number) => number {
    const cell = [...FLOAT_COLUMNS, ...COUNT_COLUMNS].find(([column]) => column === name)?.[1] as (r: ModelRecord) => number;
    return (i) => cell(this.records[i] as ModelRecord);
  }

  params(i: number): Float64Array {
    return (this.records[i] as ModelRecord).params;
  }

  trainedAt(words: Int32Array): void {
    fillTrainedAt(words, this.length, this.trainedAtMs);
  }
}

/** Writes `ms` as the trained_at of `rows` rows (little-endian int32 pairs), for rows all written at once. */
export function fillTrainedAt(words: Int32Array, rows: number, ms: number): void {
  const one = new Int32Array(BigInt64Array.of(BigInt(Math.round(ms))).buffer);
  for (let i = 0; i < rows; i++) words.set(one, 2 * i);
}

/** Rows picked from decoded files: row k is row `rows[k]` of `views[viewOf[k]]`. */
export class ViewRows implements RowSource {
  readonly #views: RecordsView[] = [];
  readonly #viewIndex = new Map<RecordsView, number>();
  readonly #viewOf: number[] = [];
  readonly #rows: number[] = [];

  get length(): number {
    return this.#rows.length;
  }

  add(view: RecordsView, row: number): void {
    let index = this.#viewIndex.get(view);
    if (index === undefined) {
      index = this.#views.length;
      this.#views.push(view);
      this.#viewIndex.set(view, index);
    }
    this.#viewOf.push(index);
    this.#rows.push(row);
  }

  /** The rows of `runs`, in order. */
  static of(runs: readonly RowRun[]): ViewRows {
    const rows = new ViewRows();
    for (const { view, start, end } of runs) for (let i = start; i < end; i++) rows.add(view, i);
    return rows;
  }

  text(name: string): ReturnType<RowSource['text']> {
    const columns: Array<Utf8Column | undefined> = this.#views.map((view) => view.text(name));
    const viewOf = this.#viewOf;
    const rows = this.#rows;
    return {
      bytes: (i) => columns[viewOf[i] as number]?.byteLength(rows[i] as number) ?? -1,
      write: (i, target, at) => (columns[viewOf[i] as number] as Utf8Column).copyTo(rows[i] as number, target, at),
    };
  }

  number(name: string): (i: number) => number {
    const count = COUNT_COLUMNS.some(([column]) => column === name);
    const columns = this.#views.map((view) => (count ? view.counts(name) : view.floats(name)));
    const viewOf = this.#viewOf;
    const rows = this.#rows;
    return (i) => (columns[viewOf[i] as number] as Float64Array | Int32Array)[rows[i] as number] as number;
  }

  params(i: number): Float64Array {
    return (this.#views[this.#viewOf[i] as number] as RecordsView).params(this.#rows[i] as number);
  }

  trainedAt(words: Int32Array): void {
    for (let i = 0; i < this.length; i++) {
      const source = (this.#views[this.#viewOf[i] as number] as RecordsView).trainedAtWords;
      const row = this.#rows[i] as number;
      words[2 * i] = source[2 * row] as number;
      words[2 * i + 1] = source[2 * row + 1] as number;
    }
  }
}

/**
 * The columns of one store file as an encoder builds them: text columns by name (`id`, `family`, `family_key`
 * and each `extra.<key>` of the layout), the params column, numbers by column name, trained_at.
 */
export interface FileColumns {
  text(name: string): Data;
  readonly params: Data;
  floats(name: string): Float64Array;
  counts(name: string): Int32Array;
  readonly trainedAt: BigInt64Array;
}

/** An Arrow IPC file of one record batch of `n` rows: the columns in the store's order (record-schema.ts). */
export function storeFile(n: number, layout: RecordLayout, columns: FileColumns): Uint8Array {
  const fields: Field[] = [];
  const data: Data[] = [];
  const add = (name: string, column: Data, nullable = false): void => {
    fields.push(new Field(name, column.type, nullable));
    data.push(column);
  };
  for (const [name] of TEXT_COLUMNS) add(name, columns.text(name));
  add('params', columns.params);
  for (const [name] of FLOAT_COLUMNS) add(name, makeData({ type: new Float64(), length: n, data: columns.floats(name) }));
  for (const [name] of COUNT_COLUMNS) add(name, makeData({ type: new Int32(), length: n, data: columns.counts(name) }));
  add(TRAINED_AT, makeData({ type: new TimestampMillisecond(), length: n, data: columns.trainedAt }));
  for (const key of layout.extraKeys) add(`${EXTRA_PREFIX}${key}`, columns.text(`${EXTRA_PREFIX}${key}`), true);
  const schema = new Schema(fields, new Map([[FORMAT_KEY, FORMAT_VERSION]]));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children: data }));
  return tableToIPC(new Table(schema, [batch]), 'file');
}

/** An Arrow IPC file (one record batch) holding the rows of `source` in `layout`. */
export function encodeRows(source: RowSource, layout: RecordLayout): Uint8Array {
  const n = source.length;
  const numbers = <T extends Float64Array | Int32Array>(name: string, values: T): T => {
    const cell = source.number(name);
    for (let i = 0; i < n; i++) values[i] = cell(i);
    return values;
  };
  const trainedAt = new BigInt64Array(n);
  source.trainedAt(new Int32Array(trainedAt.buffer));
  return storeFile(n, layout, {
    text: (name) => utf8Data(source, name),
    params: paramsData(source, layout.paramWidth),
    floats: (name) => numbers(name, new Float64Array(n)),
    counts: (name) => numbers(name, new Int32Array(n)),
    trainedAt,
  });
}

function paramsData(source: RowSource, width: number | undefined): Data {
  const n = source.length;
  const item = new Field<Float64>('item', new Float64(), false);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = (offsets[i] as number) + source.params(i).length;
  const values = new Float64Array(offsets[n] as number);
  for (let i = 0; i < n; i++) values.set(source.params(i), offsets[i] as number);
  const child = makeData({ type: new Float64(), length: values.length, data: values });
  if (width !== undefined) return makeData({ type: new FixedSizeList<Float64>(width, item), length: n, nullCount: 0, child });
  return makeData({ type: new List<Float64>(item), length: n, nullCount: 0, valueOffsets: offsets, child });
}

/** A Utf8 column of `source`; cells of byte length -1 are null. */
function utf8Data(source: RowSource, name: string): Data {
  const n = source.length;
  const cells = source.text(name);
  const offsets = new Int32Array(n + 1);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const bytes = cells.bytes(i);
    if (bytes < 0) nulls++;
    offsets[i + 1] = (offsets[i] as number) + Math.max(0, bytes);
  }
  const data = Buffer.allocUnsafe(offsets[n] as number);
  const validity = nulls === 0 ? undefined : new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    if (offsets[i + 1] === offsets[i] && cells.bytes(i) < 0) continue;
    cells.write(i, data, offsets[i] as number);
    if (validity) validity[i >> 3] = (validity[i >> 3] as number) | (1 << (i & 7));
  }
  const view = new Uint8Array(data.buffer, data.byteOffset, data.length);
  return makeData({ type: new Utf8(), length: n, nullCount: nulls, valueOffsets: offsets, data: view, ...(validity ? { nullBitmap: validity } : {}) });
}
