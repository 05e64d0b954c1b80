// A Parquet page header (parquet.thrift's PageHeader), the fields the direct path uses: which kind of page,
// its sizes, and for data pages the value count, encoding and (v2) the level lengths and compression flag.
// Everything else (statistics, CRC, index pages' contents) is skipped.
import { CompactReader, CompactType, ThriftError } from './thrift-compact.js';

export const PageType = { Data: 0, Index: 1, Dictionary: 2, DataV2: 3 } as const;

/** parquet.thrift's Encoding.PLAIN; the direct path reads nothing else. */
export const PLAIN = 0;

export interface PageHeader {
  type: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Bytes of the header itself: the page's data follows it. */
  headerSize: number;
  numValues: number;
  encoding: number;
  /** v2 only: nulls the page declares (v1 pages say it only through their definition levels). */
  numNulls: number;
  /** v2 only: the uncompressed level bytes before the values. */
  definitionLevelsBytes: number;
  repetitionLevelsBytes: number;
  /** v2 only: false when the writer left this page uncompressed despite the column's codec. */
  compressed: boolean;
}

export function readPageHeader(bytes: Uint8Array, start: number): PageHeader {
  const reader = new CompactReader(bytes, start);
  const header: PageHeader = { type: -1, uncompressedSize: -1, compressedSize: -1, headerSize: 0, numValues: -1, encoding: -1, numNulls: 0, definitionLevelsBytes: 0, repetitionLevelsBytes: 0, compressed: true };
  for (let field = reader.nextField(); field !== undefined; field = reader.nextField()) {
    const { id, type } = field;
    if (id === 1 && type === CompactType.I32) header.type = reader.integer();
    else if (id === 2 && type === CompactType.I32) header.uncompressedSize = reader.integer();
    else if (id === 3 && type === CompactType.I32) header.compressedSize = reader.integer();
    else if (id === 5 && type === CompactType.Struct) readDataPageV1(reader, header);
    else if (id === 8 && type === CompactType.Struct) readDataPageV2(reader, header);
    else reader.skip(type);
  }
  if (header.type < 0 || header.uncompressedSize < 0 || header.compressedSize < 0) throw new ThriftError('a page header without its type or sizes');
  header.headerSize = reader.pos - start;
  return header;
}

function readDataPageV1(reader: CompactReader, header: PageHeader): void {
  reader.enterStruct();
  for (let field = reader.nextField(); field !== undefined; field = reader.nextField()) {
    if (field.id === 1 && field.type === CompactType.I32) header.numValues = reader.integer();
    else if (field.id === 2 && field.type === CompactType.I32) header.encoding = reader.integer();
    else reader.skip(field.type);
  }
  reader.leaveStruct();
}

function readDataPageV2(reader: CompactReader, header: PageHeader): void {
  reader.enterStruct();
  for (let field = reader.nextField(); field !== undefined; field = reader.nextField()) {
    const { id, type } = field;
    if (id === 1 && type === CompactType.I32) header.numValues = reader.integer();
    else if (id === 2 && type === CompactType.I32) header.numNulls = reader.integer();
    else if (id === 4 && type === CompactType.I32) header.encoding = reader.integer();
    else if (id === 5 && type === CompactType.I32) header.definitionLevelsBytes = reader.integer();
    else if (id === 6 && type === CompactType.I32) header.repetitionLevelsBytes = reader.integer();
    else if (id === 7 && (type === CompactType.True || type === CompactType.False)) header.compressed = type === CompactType.True;
    else reader.skip(type);
  }
  reader.leaveStruct();
}
