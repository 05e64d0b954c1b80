// Parquet partitions: planning reads only the footer (synchronously, in the client) and yields one piece per
// row group; a worker reads one row group through hyparquet, which fetches byte ranges from a file handle,
// so the rest of the file is never loaded. Flat schemas only (nested columns are refused by name).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Field, type DataType, type Table } from 'apache-arrow';
import { parquetMetadata, parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData, type SchemaElement } from 'hyparquet';
// Every codec Parquet writers use (ZSTD, GZIP, Brotli, LZ4; hyparquet alone reads only Snappy), and Snappy in
// WebAssembly, about twice as fast as hyparquet's own.
import { compressors } from 'hyparquet-compressors';
import { buildColumn, tableFromColumns } from './arrow-build.js';
import { PartitionError } from './errors.js';
import { parquetArrowType } from './parquet-types.js';

export interface ParquetPiece {
  path: string;
  rowGroup: number;
  rows: number;
}

export function planParquet(paths: string[]): ParquetPiece[] {
  const pieces: ParquetPiece[] = [];
  for (const path of paths) {
    const metadata = readFooterSync(path);
    metadata.row_groups.forEach((group, rowGroup) => pieces.push({ path, rowGroup, rows: Number(group.num_rows) }));
  }
  return pieces;
}

function readFooterSync(path: string): FileMetaData {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(8);
    if (size < 12 || readSync(fd, tail, 0, 8, size - 8) !== 8 || tail.toString('latin1', 4) !== 'PAR1') {
      throw new PartitionError('PARQUET_UNSUPPORTED', `${path} is not a Parquet file (no PAR1 footer)`);
    }
    const footerLength = tail.readUInt32LE(0) + 8;
    if (footerLength > size - 4) throw new PartitionError('PARQUET_UNSUPPORTED', `${path}: footer length ${footerLength} exceeds the file`);
    const footer = new Uint8Array(footerLength);
    readSync(fd, footer, 0, footerLength, size - footerLength);
    return parquetMetadata(footer.buffer);
  } finally {
    closeSync(fd);
  }
}

export async function readParquetPiece(piece: ParquetPiece, columns?: string[]): Promise<Table> {
  const handle = await open(piece.path, 'r');
  try {
    const file = await fileBuffer(handle);
    const metadata = await parquetMetadataAsync(file);
    const group = metadata.row_groups[piece.rowGroup];
    if (group === undefined) {
      throw new PartitionError('PARQUET_UNSUPPORTED', `${piece.path} has ${metadata.row_groups.length} row groups; there is no row group ${piece.rowGroup}`);
    }
    const elements = leafColumns(metadata, piece.path);
    const names = columns ?? elements.map((element) => element.name);
    const unknown = names.filter((name) => !elements.some((element) => element.name === name));
    if (unknown.length > 0) {
      throw new PartitionError('UNKNOWN_COLUMN', `${piece.path} has no column ${unknown.map((n) => JSON.stringify(n)).join(', ')}; its columns are: ${elements.map((e) => e.name).join(', ')}`);
    }
    const selected = names.map((name) => elements.find((element) => element.name === name) as SchemaElement);
    const types = selected.map((element) => parquetArrowType(element, piece.path));
    let rowStart = 0;
    for (let g = 0; g < piece.rowGroup; g++) rowStart += Number(metadata.row_groups[g]?.num_rows ?? 0n);
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: unknown[][] = [];
    if (names.length > 0 && rowEnd > rowStart) {
      // utf8: false: a BYTE_ARRAY column without a STRING annotation is bytes, not text to decode (lossily).
      await parquetRead({ file, metadata, columns: names, rowStart, rowEnd, compressors, rowFormat: 'array', utf8: false, onComplete: (result) => { rows = result; } });
    }
    const fields = selected.map((element, c) => new Field(element.name, types[c] as DataType, element.repetition_type !== 'REQUIRED'));
    const data = fields.map((field, c) => buildColumn(field.type as DataType, rows.map((row) => toArrowValue(row[c]))));
    return tableFromColumns(fields, data, rows.length);
  } finally {
    await handle.close();
  }
}

function leafColumns(metadata: FileMetaData, path: string): SchemaElement[] {
  const [, ...elements] = metadata.schema;
  const nested = elements.find((element) => (element.num_children ?? 0) > 0 || element.repetition_type === 'REPEATED');
  if (nested !== undefined) {
    throw new PartitionError('PARQUET_UNSUPPORTED', `${path}: column ${JSON.stringify(nested.name)} is nested (list, map or struct); Loom reads flat Parquet schemas`);
  }
  return elements;
}

function toArrowValue(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  return value ?? null;
}

async function fileBuffer(handle: FileHandle): Promise<AsyncBuffer> {
  const { size } = await handle.stat();
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const bytes = new Uint8Array(Math.max(0, end - start));
      let done = 0;
      while (done < bytes.length) {
        const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return bytes.buffer;
    },
  };
}
