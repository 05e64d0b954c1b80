// Column-wise row selection ("take"): the rows at given indices of a table, built by copying buffers directly:
// fixed-width values as machine words, bits for booleans and validity, offsets + bytes for strings and binary
// (never decoded), dictionary indices with the dictionary kept, child slices for lists and structs.
import { Type, makeData, Vector, type Data, type DataType, type Table } from 'apache-arrow';
import { buildColumn, tableFromColumns } from './arrow-build.js';
import { PartitionError } from './errors.js';

/** Row indices to keep, in output order (usually ascending); one index may appear more than once. */
export type RowIndices = Int32Array | Uint32Array | readonly number[];

/**
 * Where each selected row comes from: `local[k]` is output row k's index inside its record batch, and
 * `runs` holds (batch, from, to) triples covering output rows [from, to) that all come from one batch.
 */
interface Plan {
  readonly local: Int32Array;
  readonly runs: Int32Array;
  readonly length: number;
}

type AnyData = Data<DataType>;

/** The rows at `indices` as a one-batch table with the same schema (fields and metadata). */
export function takeRows(table: Table, indices: RowIndices): Table {
  const plan = planTake(table.batches.map((batch) => batch.numRows), indices);
  const fields = table.schema.fields;
  const columns = fields.map((_, c) => {
    const chunks = table.batches.map((batch) => batch.data.children[c] as AnyData);
    return takeColumn(chunks, plan) ?? takeByBuilder(table.getChildAt(c) as Vector, indices);
  });
  return tableFromColumns(fields, columns, plan.length, table.schema.metadata);
}

/** Every value read out and appended to a builder: the fallback for types not copied here, and the tests' oracle. */
export function takeRowsByBuilders(table: Table, indices: RowIndices): Table {
  const fields = table.schema.fields;
  const columns = fields.map((_, c) => takeByBuilder(table.getChildAt(c) as Vector, indices));
  return tableFromColumns(fields, columns, indices.length, table.schema.metadata);
}

function takeByBuilder(vector: Vector, indices: RowIndices): AnyData {
  return buildColumn(vector.type as DataType, Array.prototype.map.call(indices, (i: number) => vector.get(i) as unknown) as unknown[]);
}

function planTake(batchLengths: number[], indices: RowIndices): Plan {
  const n = indices.length;
  const starts: number[] = [];
  let total = 0;
  for (const length of batchLengths) {
    starts.push(total);
    total += length;
  }
  const local = new Int32Array(n);
  const runs: number[] = [];
  let batch = -1;
  let lo = 0;
  let hi = -1; // rows [lo, hi) belong to `batch`
  for (let k = 0; k < n; k++) {
    const i = indices[k] as number;
    if (i < lo || i >= hi) {
      if (!(Number.isInteger(i) && i >= 0 && i < total)) {
        throw new PartitionError('BAD_VALUE', `row index ${String(i)} is out of range for a table of ${total} rows`);
      }
      if (batch !== -1) runs[runs.length - 1] = k;
      batch = batchOf(starts, batchLengths, i);
      lo = starts[batch] as number;
      hi = lo + (batchLengths[batch] as number);
      runs.push(batch, k, n);
    }
    local[k] = i - lo;
  }
  return { local, runs: Int32Array.from(runs), length: n };
}

/** The batch holding row `i` (the last batch starting at or before it that is not empty). */
function batchOf(starts: number[], lengths: number[], i: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= i) lo = mid;
    else hi = mid - 1;
  }
  while ((lengths[lo] as number) === 0) lo--; // empty batches share their start with the next one
  return lo;
}

/** The column's selected rows as one Data, or undefined when its type is not handled here (union, views). */
function takeColumn(chunks: AnyData[], plan: Plan): AnyData | undefined {
  const type = (chunks[0] ?? { type: undefined }).type as DataType | undefined;
  if (type === undefined || !canTake(type)) return undefined;
  if (type.typeId === Type.Dictionary && !sameDictionary(chunks)) return undefined;
  return take(type, chunks, plan);
}

function canTake(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Union:
    case Type.Utf8View:
    case Type.BinaryView:
      return false;
    default:
      return (type.children ?? []).every((field) => canTake(field.type as DataType));
  }
}

function sameDictionary(chunks: AnyData[]): boolean {
  return chunks.every((chunk) => chunk.dictionary === (chunks[0] as AnyData).dictionary);
}

function take(type: DataType, chunks: AnyData[], plan: Plan): AnyData {
  const n = plan.length;
  if (type.typeId === Type.Null) return makeData({ type, length: n } as never);
  const { nullBitmap, nullCount } = takeValidity(chunks, plan);
  const props = { type, length: n, nullCount, nullBitmap };
  switch (type.typeId) {
    case Type.Bool:
      return makeData({ ...props, data: takeBits(chunks, plan) } as never);
    case Type.Int:
    case Type.Float:
    case Type.Decimal:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Interval:
    case Type.Duration:
    case Type.FixedSizeBinary:
      return makeData({ ...props, data: takeFixedWidth(type, chunks, plan) } as never);
    case Type.Dictionary:
      return makeData({ ...props, data: takeFixedWidth(type, chunks, plan), dictionary: (chunks[0] as AnyData).dictionary } as never);
    case Type.Utf8:
    case Type.Binary: {
      const { valueOffsets, data } = takeVariableWidth(chunks, plan, nullBitmap);
      return makeData({ ...props, valueOffsets, data } as never);
    }
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const { valueOffsets, data } = takeLargeVariableWidth(chunks, plan, nullBitmap);
      return makeData({ ...props, valueOffsets, data } as never);
    }
    case Type.FixedSizeList: {
      const stride = (type as unknown as { listSize: number }).listSize;
      const childType = (type.children[0] as { type: DataType }).type;
      const child = take(childType, chunks.map((chunk) => chunk.children[0] as AnyData), expandFixed(plan, stride));
      return makeData({ ...props, child } as never);
    }
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const { valueOffsets, childPlan } = takeListOffsets(chunks, plan, nullBitmap, type.typeId === Type.LargeList);
      const childType = (type.children[0] as { type: DataType }).type;
      const child = take(childType, chunks.map((chunk) => chunk.children[0] as AnyData), childPlan);
      return makeData({ ...props, valueOffsets, child } as never);
    }
    case Type.Struct: {
      const children = type.children.map((field, c) => take(field.type as DataType, chunks.map((chunk) => chunk.children[c] as AnyData), plan));
      return makeData({ ...props, children } as never);
    }
    default:
      throw new PartitionError('BAD_VALUE', `cannot take rows of a ${String(type)} column`);
  }
}

function hasNulls(chunk: AnyData): boolean {
  return chunk.nullCount > 0 && chunk.nullBitmap !== undefined && chunk.nullBitmap.byteLength > 0;
}

/** The output validity bitmap (undefined when no selected chunk has nulls) and its null count. */
function takeValidity(chunks: AnyData[], plan: Plan): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  const { runs, local, length } = plan;
  let any = false;
  for (let r = 0; r < runs.length && !any; r += 3) any = hasNulls(chunks[runs[r] as number] as AnyData);
  if (!any) return { nullBitmap: undefined, nullCount: 0 };
  const out = new Uint8Array(((length + 63) & ~63) >> 3);
  let nulls = 0;
  for (let r = 0; r < runs.length; r += 3) {
    const chunk = chunks[runs[r] as number] as AnyData;
    const from = runs[r + 1] as number;
    const to = runs[r + 2] as number;
    if (!hasNulls(chunk)) {
      setBits(out, from, to);
      continue;
    }
    const bits = chunk.nullBitmap as Uint8Array;
    const offset = chunk.offset;
    for (let k = from; k < to; k++) {
      const p = offset + (local[k] as number);
      if ((((bits[p >> 3] as number) >> (p & 7)) & 1) !== 0) out[k >> 3]! |= 1 << (k & 7);
      else nulls++;
    }
  }
  return { nullBitmap: out, nullCount: nulls };
}

function setBits(bits: Uint8Array, from: number, to: number): void {
  let k = from;
  for (; k < to && (k & 7) !== 0; k++) bits[k >> 3]! |= 1 << (k & 7);
  if (k + 8 <= to) {
    bits.fill(0xff, k >> 3, (to & ~7) >> 3);
    k = to & ~7;
  }
  for (; k < to; k++) bits[k >> 3]! |= 1 << (k & 7);
}

function takeBits(chunks: AnyData[], plan: Plan): Uint8Array {
  const { runs, local, length } = plan;
  const out = new Uint8Array(((length + 63) & ~63) >> 3);
  for (let r = 0; r < runs.length; r += 3) {
    const chunk = chunks[runs[r] as number] as AnyData;
    const bits = chunk.values as Uint8Array;
    const offset = chunk.offset;
    for (let k = runs[r + 1] as number, to = runs[r + 2] as number; k < to; k++) {
      const p = offset + (local[k] as number);
      if ((((bits[p >> 3] as number) >> (p & 7)) & 1) !== 0) out[k >> 3]! |= 1 << (k & 7);
    }
  }
  return out;
}

type Words = Int32Array | Uint16Array | Uint8Array;
type TypedArrayCtor = (new (buffer: ArrayBuffer | number) => ArrayBufferView) & { BYTES_PER_ELEMENT: number };

/**
 * Fixed-width values (ints, floats, dates, timestamps, decimals, dictionary indices...) copied row by row as
 * 32-, 16- or 8-bit words: copying words never makes BigInts or canonicalises NaNs.
 */
function takeFixedWidth(type: DataType, chunks: AnyData[], plan: Plan): ArrayBufferView {
  const { runs, local, length } = plan;
  const ArrayType = (type.typeId === Type.Dictionary ? (type as unknown as { indices: DataType }).indices.ArrayType : type.ArrayType) as TypedArrayCtor;
  if (runs.length === 0) return new ArrayType(0);
  const bytesPerRow = ArrayType.BYTES_PER_ELEMENT * (chunks[runs[0] as number] as AnyData).stride;
  let wordBytes = bytesPerRow % 4 === 0 ? 4 : bytesPerRow % 2 === 0 ? 2 : 1;
  for (let r = 0; r < runs.length; r += 3) {
    while ((((chunks[runs[r] as number] as AnyData).values as ArrayBufferView).byteOffset % wordBytes) !== 0) wordBytes >>= 1;
  }
  const buffer = new ArrayBuffer(length * bytesPerRow);
  const out = wordView(buffer, 0, buffer.byteLength, wordBytes);
  for (let r = 0; r < runs.length; r += 3) {
    const values = (chunks[runs[r] as number] as AnyData).values as ArrayBufferView;
    const words = wordView(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength, wordBytes);
    copyWords(words, out, bytesPerRow / wordBytes, local, runs[r + 1] as number, runs[r + 2] as number);
  }
  return new ArrayType(buffer);
}

function wordView(buffer: ArrayBuffer, byteOffset: number, byteLength: number, wordBytes: number): Words {
  if (wordBytes === 4) return new Int32Array(buffer, byteOffset, byteLength >> 2);
  if (wordBytes === 2) return new Uint16Array(buffer, byteOffset, byteLength >> 1);
  return new Uint8Array(buffer, byteOffset, byteLength);
}

function copyWords(src: Words, out: Words, w: number, local: Int32Array, from: number, to: number): void {
  if (w === 1) {
    for (let k = from; k < to; k++) out[k] = src[local[k] as number] as number;
  } else if (w === 2) {
    for (let k = from; k < to; k++) {
      const i = (local[k] as number) << 1;
      out[k << 1] = src[i] as number;
      out[(k << 1) + 1] = src[i + 1] as number;
    }
  } else {
    for (let k = from; k < to; k++) {
      const i = (local[k] as number) * w;
      const o = k * w;
      for (let j = 0; j < w; j++) out[o + j] = src[i + j] as number;
    }
  }
}

function isValid(bits: Uint8Array | undefined, k: number): boolean {
  return bits === undefined || (((bits[k >> 3] as number) >> (k & 7)) & 1) !== 0;
}

/** Utf8 and Binary: int32 offsets rebuilt, value bytes copied as they are (a null row gets no bytes). */
function takeVariableWidth(chunks: AnyData[], plan: Plan, valid: Uint8Array | undefined): { valueOffsets: Int32Array; data: Uint8Array } {
  const { runs, local, length } = plan;
  const valueOffsets = new Int32Array(length + 1);
  let bytes = 0;
  for (let r = 0; r < runs.length; r += 3) {
    const offsets = (chunks[runs[r] as number] as AnyData).valueOffsets as Int32Array;
    const from = runs[r + 1] as number;
    const to = runs[r + 2] as number;
    if (valid === undefined) {
      for (let k = from; k < to; k++) {
        const i = local[k] as number;
        bytes += (offsets[i + 1] as number) - (offsets[i] as number);
        valueOffsets[k + 1] = bytes;
      }
    } else {
      for (let k = from; k < to; k++) {
        if ((((valid[k >> 3] as number) >> (k & 7)) & 1) !== 0) {
          const i = local[k] as number;
          bytes += (offsets[i + 1] as number) - (offsets[i] as number);
        }
        valueOffsets[k + 1] = bytes;
      }
    }
    if (bytes > 0x7fffffff) throw new PartitionError('BAD_VALUE', `the selected rows hold ${bytes} bytes, more than a Utf8/Binary column can (2 GiB)`);
  }
  const data = new Uint8Array(bytes);
  for (let r = 0; r < runs.length; r += 3) {
    const chunk = chunks[runs[r] as number] as AnyData;
    const offsets = chunk.valueOffsets as Int32Array;
    const values = chunk.values as Uint8Array;
    const to = runs[r + 2] as number;
    for (let k = runs[r + 1] as number; k < to;) {
      // Rows that follow each other in the input (and are not null) are one byte range: copied at once.
      const first = local[k] as number;
      let next = k + 1;
      if (valid === undefined) while (next < to && local[next] === first + (next - k)) next++;
      let at = valueOffsets[k] as number;
      const end = valueOffsets[next] as number;
      if (end - at < 64) {
        // A byte loop beats subarray()+set() for the short values most columns hold.
        for (let i = offsets[first] as number; at < end; i++) data[at++] = values[i] as number;
      } else {
        const start = offsets[first] as number;
        data.set(values.subarray(start, start + end - at), at);
      }
      k = next;
    }
  }
  return { valueOffsets, data };
}

/** LargeUtf8 and LargeBinary: the same with int64 offsets (read and written as word pairs, no BigInts). */
function takeLargeVariableWidth(chunks: AnyData[], plan: Plan, valid: Uint8Array | undefined): { valueOffsets: BigInt64Array; data: Uint8Array } {
  const { runs, local, length } = plan;
  const starts = new Float64Array(length);
  const valueOffsets = new BigInt64Array(length + 1);
  const outWords = new Int32Array(valueOffsets.buffer);
  let bytes = 0;
  for (let r = 0; r < runs.length; r += 3) {
    const words = int64Words((chunks[runs[r] as number] as AnyData).valueOffsets as BigInt64Array);
    for (let k = runs[r + 1] as number, to = runs[r + 2] as number; k < to; k++) {
      if (isValid(valid, k)) {
        const i = local[k] as number;
        const start = readInt64(words, i);
        starts[k] = start;
        bytes += readInt64(words, i + 1) - start;
      }
      writeInt64(outWords, k + 1, bytes);
    }
  }
  const data = new Uint8Array(bytes);
  let at = 0;
  for (let r = 0; r < runs.length; r += 3) {
    const values = (chunks[runs[r] as number] as AnyData).values as Uint8Array;
    for (let k = runs[r + 1] as number, to = runs[r + 2] as number; k < to; k++) {
      const end = readInt64(outWords, k + 1);
      const start = starts[k] as number;
      data.set(values.subarray(start, start + end - at), at);
      at = end;
    }
  }
  return { valueOffsets, data };
}

function int64Words(values: BigInt64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

function readInt64(words: Int32Array, i: number): number {
  return (words[2 * i + 1] as number) * 4294967296 + ((words[2 * i] as number) >>> 0);
}

function writeInt64(words: Int32Array, i: number, value: number): void {
  const high = Math.floor(value / 4294967296);
  words[2 * i] = (value - high * 4294967296) | 0;
  words[2 * i + 1] = high;
}

/** Output row k's child rows of a fixed-size list: k * stride ... k * stride + stride - 1. */
function expandFixed(plan: Plan, stride: number): Plan {
  const { runs, local, length } = plan;
  const childLocal = new Int32Array(length * stride);
  const childRuns = new Int32Array(runs.length);
  for (let r = 0; r < runs.length; r += 3) {
    childRuns[r] = runs[r] as number;
    childRuns[r + 1] = (runs[r + 1] as number) * stride;
    childRuns[r + 2] = (runs[r + 2] as number) * stride;
  }
  for (let k = 0; k < length; k++) {
    const base = (local[k] as number) * stride;
    for (let j = 0, o = k * stride; j < stride; j++) childLocal[o + j] = base + j;
  }
  return { local: childLocal, runs: childRuns, length: length * stride };
}

/** Variable-size lists (and maps): new offsets, and the plan of child rows to take (a null list gets none). */
function takeListOffsets(chunks: AnyData[], plan: Plan, valid: Uint8Array | undefined, large: boolean): { valueOffsets: Int32Array | BigInt64Array; childPlan: Plan } {
  const { runs, local, length } = plan;
  const read = (chunk: AnyData): ((i: number) => number) => {
    if (!large) {
      const offsets = chunk.valueOffsets as Int32Array;
      return (i) => offsets[i] as number;
    }
    const words = int64Words(chunk.valueOffsets as unknown as BigInt64Array);
    return (i) => readInt64(words, i);
  };
  const ends = new Float64Array(length + 1);
  let total = 0;
  for (let r = 0; r < runs.length; r += 3) {
    const offset = read(chunks[runs[r] as number] as AnyData);
    for (let k = runs[r + 1] as number, to = runs[r + 2] as number; k < to; k++) {
      if (isValid(valid, k)) total += offset((local[k] as number) + 1) - offset(local[k] as number);
      ends[k + 1] = total;
    }
  }
  const childLocal = new Int32Array(total);
  const childRuns = new Int32Array(runs.length);
  for (let r = 0; r < runs.length; r += 3) {
    const offset = read(chunks[runs[r] as number] as AnyData);
    const from = runs[r + 1] as number;
    const to = runs[r + 2] as number;
    childRuns[r] = runs[r] as number;
    childRuns[r + 1] = ends[from] as number;
    childRuns[r + 2] = ends[to] as number;
    for (let k = from; k < to; k++) {
      const start = offset(local[k] as number);
      for (let o = ends[k] as number, end = ends[k + 1] as number, i = start; o < end; o++, i++) childLocal[o] = i;
    }
  }
  let valueOffsets: Int32Array | BigInt64Array;
  if (large) {
    valueOffsets = new BigInt64Array(length + 1);
    const words = new Int32Array(valueOffsets.buffer);
    for (let k = 0; k <= length; k++) writeInt64(words, k, ends[k] as number);
  } else {
    valueOffsets = Int32Array.from(ends);
  }
  return { valueOffsets, childPlan: { local: childLocal, runs: childRuns, length: total } };
}
