// The direct path for the columns a fleet of metric files holds: flat numeric columns, PLAIN-encoded, without
// nulls, uncompressed or Snappy. Their pages are decoded here straight into the Float64Arrays a batch uses (a
// double page decompresses into the bytes of its rows of the result), with no intermediate buffers, chunk
// objects or per-value calls; hyparquet's general reader costs several times more per page on such files.
// Anything else (dictionaries, other codecs and encodings, nulls, nested schemas, decimals, INT96) returns
// undefined, and the caller reads the file through hyparquet as before.
import type { ColumnMetaData, FileMetaData, SchemaElement } from 'hyparquet';
import { readPageHeader, PageType, PLAIN, type PageHeader } from './page-header.js';
import { snappyDecompress } from './snappy.js';

/** Bytes [start, end) of the file. */
export type ReadBytes = (start: number, end: number) => Uint8Array | Promise<Uint8Array>;

/** How a column's stored values become doubles (times as ms since the epoch, as the hyparquet path's parsers). */
type Conversion = 'double' | 'float' | 'int32' | 'uint32' | 'date' | 'int64' | 'millis' | 'micros' | 'nanos';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Columns `names` of rows [rowStart, rowEnd) as Float64Arrays, or undefined when any of them (or the span,
 * which must consist of whole row groups) is outside the direct path. Throws on a corrupt page.
 */
export async function readPlainColumns(metadata: FileMetaData, names: readonly string[], rowStart: number, rowEnd: number, read: ReadBytes): Promise<Map<string, Float64Array> | undefined> {
  if (!LITTLE_ENDIAN) return undefined;
  const [root, ...leaves] = metadata.schema;
  if (root === undefined || root.num_children !== leaves.length || leaves.some((element) => (element.num_children ?? 0) > 0)) return undefined;
  const columns = names.map((name) => {
    const index = leaves.findIndex((element) => element.name === name);
    const element = leaves[index];
    return element === undefined ? undefined : { name, index, element, conversion: conversionOf(element) };
  });
  if (columns.some((column) => column?.conversion === undefined)) return undefined;
  const groups = groupsOfSpan(metadata, rowStart, rowEnd);
  if (groups === undefined) return undefined;
  const result = new Map<string, Float64Array>();
  for (const column of columns as Array<{ name: string; index: number; element: SchemaElement; conversion: Conversion }>) {
    const out = new Float64Array(rowEnd - rowStart);
    for (const { group, at } of groups) {
      const meta = metadata.row_groups[group]?.columns[column.index]?.meta_data;
      if (meta === undefined || !plainChunk(meta) || metadata.row_groups[group]!.columns[column.index]!.file_path !== undefined) return undefined;
      const start = Number(meta.data_page_offset);
      const chunk = await read(start, start + Number(meta.total_compressed_size));
      const decoded = decodeChunk(chunk, meta, column, out, at - rowStart);
      if (!decoded) return undefined;
    }
    result.set(column.name, out);
  }
  return result;
}

function conversionOf(element: SchemaElement): Conversion | undefined {
  if (element.repetition_type === 'REPEATED') return undefined;
  const logical = element.logical_type;
  const converted = element.converted_type;
  switch (element.type) {
    case 'DOUBLE':
      return logical === undefined && converted === undefined ? 'double' : undefined;
    case 'FLOAT':
      return logical === undefined && converted === undefined ? 'float' : undefined;
    case 'INT32':
      if (logical?.type === 'DATE' || converted === 'DATE') return 'date';
      if (logical?.type === 'INTEGER') return logical.isSigned ? 'int32' : 'uint32';
      if (logical !== undefined) return undefined;
      if (converted === undefined || converted === 'INT_8' || converted === 'INT_16' || converted === 'INT_32') return 'int32';
      return converted === 'UINT_8' || converted === 'UINT_16' || converted === 'UINT_32' ? 'uint32' : undefined;
    case 'INT64':
      if (logical?.type === 'TIMESTAMP') return logical.unit === 'MILLIS' ? 'millis' : logical.unit === 'MICROS' ? 'micros' : 'nanos';
      if (logical?.type === 'INTEGER') return logical.isSigned ? 'int64' : undefined;
      if (logical !== undefined) return undefined;
      if (converted === 'TIMESTAMP_MILLIS') return 'millis';
      if (converted === 'TIMESTAMP_MICROS') return 'micros';
      return converted === undefined || converted === 'INT_64' ? 'int64' : undefined;
    default:
      return undefined;
  }
}

/** The row groups [start, end) covers, each with its first row, if it covers whole groups only. */
function groupsOfSpan(metadata: FileMetaData, rowStart: number, rowEnd: number): Array<{ group: number; at: number }> | undefined {
  const groups: Array<{ group: number; at: number }> = [];
  let at = 0;
  for (let group = 0; group < metadata.row_groups.length && at < rowEnd; group++) {
    const rows = Number(metadata.row_groups[group]!.num_rows);
    if (at + rows > rowStart) {
      if (at < rowStart || at + rows > rowEnd) return undefined;
      groups.push({ group, at });
    }
    at += rows;
  }
  return at >= rowEnd ? groups : undefined;
}

function plainChunk(meta: ColumnMetaData): boolean {
  return (meta.codec === 'UNCOMPRESSED' || meta.codec === 'SNAPPY') && meta.dictionary_page_offset === undefined && meta.encodings.every((encoding) => encoding === 'PLAIN' || encoding === 'RLE' || encoding === 'BIT_PACKED');
}

/** Decodes one column chunk's pages into `out` from `offset`; false when a page is outside the direct path. */
function decodeChunk(chunk: Uint8Array, meta: ColumnMetaData, column: { element: SchemaElement; conversion: Conversion }, out: Float64Array, offset: number): boolean {
  const total = Number(meta.num_values);
  const width = WIDTH[column.conversion];
  const optional = column.element.repetition_type === 'OPTIONAL';
  const snappy = meta.codec === 'SNAPPY';
  let pos = 0;
  let row = 0;
  while (row < total) {
    if (pos >= chunk.length) throw new Error(`column ${column.element.name}: its pages hold ${row} of ${total} values`);
    const header = readPageHeader(chunk, pos);
    const dataStart = pos + header.headerSize;
    const dataEnd = dataStart + header.compressedSize;
    if (dataEnd > chunk.length) throw new Error(`column ${column.element.name}: a page runs past its column chunk`);
    pos = dataEnd;
    if (header.type === PageType.Index) continue;
    if ((header.type !== PageType.Data && header.type !== PageType.DataV2) || header.encoding !== PLAIN || header.repetitionLevelsBytes !== 0) return false;
    const count = header.numValues;
    if (count < 0 || row + count > total) throw new Error(`column ${column.element.name}: a page of ${count} values after ${row} of ${total}`);
    const target = new Uint8Array(out.buffer, out.byteOffset + 8 * (offset + row), 8 * count);
    const values = pageValues(chunk.subarray(dataStart, dataEnd), header, snappy, optional, count, width, column.conversion === 'double' ? target : undefined);
    if (values === undefined) return false;
    if (values.length !== count * width) throw new Error(`column ${column.element.name}: a page of ${count} values holds ${values.length} bytes of them`);
    if (values !== target) convert(values, column.conversion, out, offset + row, count);
    row += count;
  }
  return true;
}

/**
 * A page's value bytes: in `target` when given and the bytes can go there directly, else in a buffer aligned
 * for a typed-array view. Undefined when the page has nulls (or levels this path does not read).
 */
function pageValues(page: Uint8Array, header: PageHeader, snappy: boolean, optional: boolean, count: number, width: number, target: Uint8Array | undefined): Uint8Array | undefined {
  const size = count * width;
  if (header.type === PageType.DataV2) {
    // v2: levels first, never compressed; the values after them are compressed unless the page says otherwise.
    if (header.numNulls !== 0 || (!optional && header.definitionLevelsBytes !== 0)) return undefined;
    const body = page.subarray(header.definitionLevelsBytes);
    return decompressed(body, snappy && header.compressed, header.uncompressedSize - header.definitionLevelsBytes, size, target);
  }
  // v1: levels and values compressed together; a required flat column has no levels at all.
  if (!optional) return decompressed(page, snappy, header.uncompressedSize, size, target);
  const whole = decompressed(page, snappy, header.uncompressedSize, header.uncompressedSize, undefined);
  const levelsEnd = allDefined(whole, count);
  return levelsEnd === undefined ? undefined : aligned(whole.subarray(levelsEnd));
}

/** `body` uncompressed: `expected` bytes, into `target` when it has that length. */
function decompressed(body: Uint8Array, snappy: boolean, declared: number, expected: number, target: Uint8Array | undefined): Uint8Array {
  if (declared !== expected) throw new Error(`a page declares ${declared} uncompressed bytes, its values need ${expected}`);
  const into = target !== undefined && target.length === expected ? target : new Uint8Array(expected);
  if (snappy) snappyDecompress(body, into);
  else if (body.length !== expected) throw new Error(`an uncompressed page of ${body.length} bytes, ${expected} declared`);
  else into.set(body);
  return into;
}

/** A copy at offset 0 of its own buffer when `bytes` does not start on an 8-byte boundary. */
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
}

/**
 * Where the values start in a v1 page of an optional column whose definition levels (bit width 1, a 4-byte
 * length then RLE/bit-packed runs) are one RLE run of 1s covering all `count` values; undefined otherwise.
 */
function allDefined(page: Uint8Array, count: number): number | undefined {
  if (page.length < 4) return undefined;
  const length = page[0]! | (page[1]! << 8) | (page[2]! << 16) | (page[3]! << 24);
  if (length < 2 || 4 + length > page.length) return undefined;
  let header = 0;
  let scale = 1;
  let pos = 4;
  for (; pos < 4 + length; pos++) {
    const byte = page[pos]!;
    header += (byte & 0x7f) * scale;
    scale *= 128;
    if (byte < 0x80) break;
  }
  pos++;
  if (header % 2 !== 0 || header / 2 < count || pos !== 4 + length - 1 || page[pos] !== 1) return undefined;
  return 4 + length;
}

/** Conversions that are a typed array's own: its elements widened to doubles by one `set`. */
const WIDENED = { double: Float64Array, float: Float32Array, int32: Int32Array, uint32: Uint32Array } as const;

/** Bytes a stored value takes. */
const WIDTH: Readonly<Record<Conversion, 4 | 8>> = { double: 8, float: 4, int32: 4, uint32: 4, date: 4, int64: 8, millis: 8, micros: 8, nanos: 8 };

/** What an int64 is divided by to give ms (timestamps) or itself (plain integers). */
const INT64_DIVISOR: Readonly<Record<string, number>> = { int64: 1, millis: 1, micros: 1e3, nanos: 1e6 };

function convert(bytes: Uint8Array, conversion: Conversion, out: Float64Array, at: number, count: number): void {
  const { buffer, byteOffset } = aligned(bytes);
  if (conversion in WIDENED) {
    out.set(new WIDENED[conversion as keyof typeof WIDENED](buffer as ArrayBuffer, byteOffset, count), at);
  } else if (conversion === 'date') {
    const days = new Int32Array(buffer, byteOffset, count);
    for (let i = 0; i < count; i++) out[at + i] = days[i]! * 86_400_000;
  } else {
    // int64 from its two 32-bit halves: hi * 2^32 + lo is exact, then rounded once, as Number(bigint) is.
    const words = new Int32Array(buffer, byteOffset, 2 * count);
    const divisor = INT64_DIVISOR[conversion] as number;
    for (let i = 0; i < count; i++) {
      const value = words[2 * i + 1]! * 4294967296 + (words[2 * i]! >>> 0);
      out[at + i] = divisor === 1 ? value : value / divisor;
    }
  }
}
