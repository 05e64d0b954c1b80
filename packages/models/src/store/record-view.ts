// Reading a store file in place: each record batch becomes a RecordsView whose columns are views into the
// file's bytes. Nothing per model is built until a record is asked for, and then `params` is a view too.
import { DataType, makeData, Precision, TimeUnit, tableFromIPC, Utf8, type Data, type RecordBatch, type Table } from 'apache-arrow';
import type { ModelMetrics } from '../families/evaluate.js';
import type { StoredModel } from './model-record.js';
import { COUNT_COLUMNS, EXTRA_PREFIX, FLOAT_COLUMNS, FORMAT_KEY, FORMAT_VERSION, METRIC_OF_COLUMN, TRAINED_AT, type RecordLayout } from './record-schema.js';
import { ModelStoreError } from './store-error.js';

/** A Utf8 column's cells straight from its offsets and bytes (no Vector.get, no copies). */
export class Utf8Column {
  readonly #offsets: Int32Array;
  readonly #bytes: Buffer;
  readonly #validity: Uint8Array | undefined;
  readonly #offset: number;

  constructor(data: Data) {
    this.#offset = data.offset;
    this.#offsets = data.valueOffsets as Int32Array;
    const values = data.values as Uint8Array;
    this.#bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    this.#validity = data.nullCount > 0 ? (data.nullBitmap as Uint8Array) : undefined;
  }

  isNull(i: number): boolean {
    const at = this.#offset + i;
    return this.#validity !== undefined && ((this.#validity[at >> 3] as number) & (1 << (at & 7))) === 0;
  }

  get(i: number): string | undefined {
    if (this.isNull(i)) return undefined;
    const at = this.#offset + i;
    return this.#bytes.toString('utf8', this.#offsets[at] as number, this.#offsets[at + 1] as number);
  }

  /** Byte length of cell i, or -1 when it is null. */
  byteLength(i: number): number {
    if (this.isNull(i)) return -1;
    const at = this.#offset + i;
    return (this.#offsets[at + 1] as number) - (this.#offsets[at] as number);
  }

  /** Start and end of cell i in `bytes` (for hashing and comparing ids without making strings). */
  start(i: number): number {
    return this.#offsets[this.#offset + i] as number;
  }

  end(i: number): number {
    return this.#offsets[this.#offset + i + 1] as number;
  }

  get bytes(): Buffer {
    return this.#bytes;
  }

  copyTo(i: number, target: Buffer, at: number): number {
    return this.#bytes.copy(target, at, this.start(i), this.end(i));
  }

  /** Cells [0, length) copied into a column of their own, so holding them does not hold the file's bytes. */
  compact(length: number): Utf8Column {
    const offsets = new Int32Array(length + 1);
    const first = length === 0 ? 0 : this.start(0);
    for (let i = 0; i < length; i++) offsets[i + 1] = this.end(i) - first;
    const bytes = new Uint8Array(offsets[length] as number);
    if (length > 0) this.#bytes.copy(bytes, 0, first, this.end(length - 1));
    const validity = this.#validity === undefined ? undefined : Uint8Array.from({ length: (length + 7) >> 3 }, (_, b) => {
      let byte = 0;
      for (let k = 0; k < 8 && 8 * b + k < length; k++) if (!this.isNull(8 * b + k)) byte |= 1 << k;
      return byte;
    });
    const nulls = validity === undefined ? 0 : Array.from({ length }, (_, i) => this.isNull(i)).filter(Boolean).length;
    return new Utf8Column(makeData({ type: new Utf8(), length, nullCount: nulls, valueOffsets: offsets, data: bytes, ...(validity ? { nullBitmap: validity } : {}) }));
  }
}

/** One record batch of a store file. */
export class RecordsView {
  readonly length: number;
  readonly layout: RecordLayout;
  readonly ids: Utf8Column;
  readonly #text = new Map<string, Utf8Column>();
  readonly #floats = new Map<string, Float64Array>();
  readonly #counts = new Map<string, Int32Array>();
  /** trained_at as int32 pairs (little-endian int64), copied without making BigInts. */
  readonly trainedAtWords: Int32Array;
  readonly #params: { values: Float64Array; width: number | undefined; offsets: Int32Array | undefined; first: number };
  readonly #floatList: Array<[string, Float64Array]>;
  readonly #countList: Array<[string, Int32Array]>;
  readonly #extras: Array<[string, Utf8Column]>;

  constructor(batch: RecordBatch, path: string) {
    const corrupt = (message: string): ModelStoreError => new ModelStoreError('CORRUPT_FILE', `${path}: ${message}`, { path });
    if (batch.schema.metadata.get(FORMAT_KEY) !== FORMAT_VERSION) throw corrupt(`not a model store file of format ${FORMAT_VERSION} (schema metadata ${FORMAT_KEY})`);
    const column = (name: string, check: (type: DataType) => boolean): Data => {
      const data = batch.getChild(name)?.data[0];
      if (data === undefined || !check(data.type)) throw corrupt(`column ${name} is missing or has the wrong type`);
      return data;
    };
    const n = batch.numRows;
    this.length = n;
    for (const name of ['id', 'family', 'family_key']) this.#text.set(name, new Utf8Column(column(name, DataType.isUtf8)));
    this.ids = this.#text.get('id') as Utf8Column;
    const params = column('params', (t) => (DataType.isFixedSizeList(t) || DataType.isList(t)) && isFloat64(t.children[0]?.type));
    const child = params.children[0] as Data;
    const width = DataType.isFixedSizeList(params.type) ? params.type.listSize : undefined;
    this.#params = {
      values: (child.values as Float64Array).subarray(child.offset),
      width,
      offsets: width === undefined ? (params.valueOffsets as Int32Array).subarray(params.offset) : undefined,
      first: width === undefined ? 0 : params.offset * width,
    };
    for (const [name] of FLOAT_COLUMNS) {
      const data = column(name, isFloat64);
      this.#floats.set(name, (data.values as Float64Array).subarray(data.offset, data.offset + n));
    }
    for (const [name] of COUNT_COLUMNS) {
      const data = column(name, (t) => DataType.isInt(t) && t.bitWidth === 32 && t.isSigned);
      this.#counts.set(name, (data.values as Int32Array).subarray(data.offset, data.offset + n));
    }
    const trainedAt = column(TRAINED_AT, (t) => DataType.isTimestamp(t) && t.unit === TimeUnit.MILLISECOND);
    const words = trainedAt.values as BigInt64Array;
    this.trainedAtWords = new Int32Array(words.buffer, words.byteOffset + trainedAt.offset * 8, n * 2);
    this.#extras = batch.schema.fields
      .filter((field) => field.name.startsWith(EXTRA_PREFIX))
      .map((field) => [field.name.slice(EXTRA_PREFIX.length), new Utf8Column(column(field.name, DataType.isUtf8))]);
    for (const [key, extra] of this.#extras) this.#text.set(`${EXTRA_PREFIX}${key}`, extra);
    this.#floatList = [...this.#floats];
    this.#countList = [...this.#counts];
    this.layout = { paramWidth: width, extraKeys: this.#extras.map(([key]) => key) };
  }

  id(i: number): string {
    return this.ids.get(i) as string;
  }

  /** A utf8 column by name (`extra.<key>` included); undefined when this batch lacks it. */
  text(name: string): Utf8Column | undefined {
    return this.#text.get(name);
  }

  floats(name: string): Float64Array {
    return this.#floats.get(name) as Float64Array;
  }

  counts(name: string): Int32Array {
    return this.#counts.get(name) as Int32Array;
  }

  /** A metric column by metric name (e.g. 'testRmse'). */
  metric(name: keyof ModelMetrics): Float64Array | Int32Array {
    const column = [...METRIC_OF_COLUMN].find(([, metric]) => metric === name)?.[0] as string;
    return this.#floats.get(column) ?? (this.#counts.get(column) as Int32Array);
  }

  params(i: number): Float64Array {
    const { values, width, offsets, first } = this.#params;
    if (width !== undefined) return values.subarray(first + i * width, first + (i + 1) * width);
    const o = offsets as Int32Array;
    return values.subarray(o[i] as number, o[i + 1] as number);
  }

  /** Parameters of row i. */
  paramLength(i: number): number {
    const { width, offsets } = this.#params;
    return width ?? (offsets as Int32Array)[i + 1]! - (offsets as Int32Array)[i]!;
  }

  /** The parameters of rows [start, end), back to back (a view). */
  paramValues(start: number, end: number): Float64Array {
    const { values, width, offsets, first } = this.#params;
    if (width !== undefined) return values.subarray(first + start * width, first + end * width);
    return values.subarray((offsets as Int32Array)[start] as number, (offsets as Int32Array)[end] as number);
  }

  record(i: number): StoredModel {
    const floats = this.#floats;
    const at = (name: string): number => (floats.get(name) as Float64Array)[i] as number;
    const metrics: Record<string, number> = {};
    for (const [name, values] of this.#floatList) {
      const metric = METRIC_OF_COLUMN.get(name);
      if (metric !== undefined) metrics[metric] = values[i] as number;
    }
    for (const [name, values] of this.#countList) metrics[METRIC_OF_COLUMN.get(name) as string] = values[i] as number;
    const extra: Record<string, string> = {};
    for (const [key, column] of this.#extras) {
      const value = column.get(i);
      if (value !== undefined) extra[key] = value;
    }
    return {
      id: this.id(i),
      family: this.#text.get('family')?.get(i) as string,
      familyKey: this.#text.get('family_key')?.get(i) as string,
      params: this.params(i),
      trainRange: { from: at('train_from'), to: at('train_to') },
      testRange: { from: at('test_from'), to: at('test_to') },
      metrics: metrics as unknown as ModelMetrics,
      extra,
      trainedAt: int64At(this.trainedAtWords, i),
    };
  }
}

/** The int64 at i of little-endian int32 pairs, as a number (exact below 2^53). */
function int64At(words: Int32Array, i: number): number {
  return (words[2 * i + 1] as number) * 4294967296 + ((words[2 * i] as number) >>> 0);
}

function isFloat64(type: DataType | undefined): boolean {
  return type !== undefined && DataType.isFloat(type) && type.precision === Precision.DOUBLE;
}

/** The record batches of a store file; a file that does not decode is CORRUPT_FILE naming it. */
export function decodeRecords(bytes: Uint8Array, path: string): RecordsView[] {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    throw new ModelStoreError('CORRUPT_FILE', `${path}: not a readable Arrow IPC file: ${error instanceof Error ? error.message : String(error)}`, { path, cause: error });
  }
  return table.batches.map((batch) => new RecordsView(batch, path));
}
