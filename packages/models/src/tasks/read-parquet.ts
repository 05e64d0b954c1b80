// A batch's Parquet source: one scan of the file reading only the time column and the batch's value columns,
// and only the row groups whose time statistics meet the ranges the batch's slices need. Flat PLAIN numeric
// columns without nulls (what metric fleets hold) are decoded straight into Float64Arrays (parquet/); any other
// file goes through hyparquet, whose decoded chunks are copied once into Float64Arrays.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, type AsyncBuffer, type ColumnData, type FileMetaData, type SchemaElement } from 'hyparquet';
// Every codec Parquet writers use (hyparquet alone reads only Snappy), and Snappy in WebAssembly, ~2x hyparquet's own.
import { compressors } from 'hyparquet-compressors';
import type { BatchSourceSpec } from '../train-many/batch-wire.js';
import { readPlainColumns, type ReadBytes } from './parquet/plain-columns.js';
import { copyDoubles, inTimeOrder, toDouble, unionOfRanges, type Problem, type SourceRead } from './source-data.js';

/** Timestamps and dates as ms since the epoch (numbers), not Date objects: no object per value. */
const PARSERS = {
  timestampFromMilliseconds: (millis: bigint) => Number(millis),
  timestampFromMicroseconds: (micros: bigint) => Number(micros) / 1e3,
  timestampFromNanoseconds: (nanos: bigint) => Number(nanos) / 1e6,
  dateFromDays: (days: number) => days * 86_400_000,
};

/** `wholeFileBytes`: files up to this size are read in one call (see WHOLE_FILE_BYTES). */
export async function readParquet(spec: BatchSourceSpec, timeColumn: string, ranges: Float64Array, wholeFileBytes = WHOLE_FILE_BYTES): Promise<SourceRead> {
  const path = (spec.source as { file: string }).file;
  let file;
  let metadata: FileMetaData;
  try {
    file = await openParquet(path, wholeFileBytes);
    metadata = await parquetMetadataAsync(file, { parsers: PARSERS });
  } catch (error) {
    return { code: 'SOURCE_FAILED', message: `cannot read ${path} as Parquet: ${error instanceof Error ? error.message : String(error)}` };
  }
  const leaves = metadata.schema.slice(1).filter((element) => (element.num_children ?? 0) === 0);
  const byName = new Map(leaves.map((element) => [element.name, element]));
  const time = byName.get(timeColumn);
  if (time === undefined) return { code: 'BAD_TIME_COLUMN', message: `${path} has no time column ${JSON.stringify(timeColumn)}` };
  const timeKind = timeKindOf(time);
  if (timeKind !== spec.rangeKind) {
    const what = timeKind === undefined ? 'neither a timestamp nor a number' : timeKind === 'timestamp' ? 'a timestamp' : 'a number';
    return { code: 'BAD_TIME_COLUMN', message: `the time column ${JSON.stringify(timeColumn)} of ${path} is ${what}, but the split's bounds are ${spec.rangeKind === 'timestamp' ? 'timestamps' : 'numbers'}` };
  }
  const valueColumns = leaves.filter((element) => element.name !== timeColumn);
  const resolved = spec.columns.map((column): string | Problem => {
    if (column === null) {
      if (valueColumns.length === 1) return (valueColumns[0] as SchemaElement).name;
      return { code: 'MISSING_COLUMN', message: `${path} has ${valueColumns.length} value columns besides ${JSON.stringify(timeColumn)}; the split must name one in its column field` };
    }
    const element = byName.get(column);
    if (element === undefined || column === timeColumn) return { code: 'MISSING_COLUMN', message: `${path} has no column ${JSON.stringify(column)}` };
    if (!isNumeric(element)) return { code: 'NOT_NUMERIC', message: `column ${JSON.stringify(column)} of ${path} is not numeric` };
    return column;
  });
  const names = [...new Set(resolved.filter((column): column is string => typeof column === 'string'))];
  const [rowStart, rowEnd] = rowSpan(metadata, leaves.indexOf(time), unionOfRanges(ranges, spec.first, spec.count));
  if (rowEnd > rowStart) {
    let direct: Map<string, Float64Array> | undefined;
    try {
      direct = await readPlainColumns(metadata, [timeColumn, ...names], rowStart, rowEnd, bytesOf(file));
    } catch (error) {
      return { code: 'SOURCE_FAILED', message: `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (direct !== undefined) return inTimeOrder(direct.get(timeColumn) as Float64Array, resolved.map((column) => (typeof column === 'string' ? (direct.get(column) as Float64Array) : column)));
  }
  const chunks = new Map<string, ColumnData[]>([timeColumn, ...names].map((name) => [name, []]));
  if (rowEnd > rowStart) {
    try {
      await parquetRead({ file, metadata, columns: [timeColumn, ...names], rowStart, rowEnd, parsers: PARSERS, compressors, onChunk: (chunk) => chunks.get(chunk.columnName)?.push(chunk) });
    } catch (error) {
      return { code: 'SOURCE_FAILED', message: `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  const length = Math.max(0, rowEnd - rowStart);
  const assemble = (name: string): Float64Array => {
    const out = new Float64Array(length).fill(NaN);
    for (const chunk of chunks.get(name) ?? []) {
      // A chunk may hold rows outside [rowStart, rowEnd): copy only the overlap.
      const from = Math.max(chunk.rowStart, rowStart);
      const to = Math.min(chunk.rowEnd, rowEnd);
      if (to > from) copyDoubles(chunk.columnData as ArrayLike<unknown>, from - chunk.rowStart, to - chunk.rowStart, out, from - rowStart);
    }
    return out;
  };
  const values = new Map(names.map((name) => [name, assemble(name)]));
  return inTimeOrder(assemble(timeColumn), resolved.map((column) => (typeof column === 'string' ? (values.get(column) as Float64Array) : column)));
}

/**
 * Files up to this size are read whole, in one call. hyparquet's file reader opens a stream per byte range it
 * fetches (the footer fetch alone takes the last 512 KiB), so a small file is otherwise read twice, in many
 * calls; a bigger file is read by ranges, so a batch holds only the columns and row groups it needs.
 */
export const WHOLE_FILE_BYTES = 16 * 2 ** 20;

/**
 * A whole file is read synchronously, on purpose. An asynchronous read is a chain of open, stat, read and
 * close, and each step's continuation runs on the task thread only when it yields, which it does not while
 * fitting: the read-ahead barely advanced, and the extra hops cost more than the read. Measured on bench:many
 * (5,000 files of 285 KiB, page cache): tasks waited 12-13.6 s on reads (summed over 2 threads) with
 * asynchronous reads, 3.7 s with synchronous ones, decoding included.
 */
async function openParquet(path: string, wholeFileBytes: number): Promise<AsyncBuffer> {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size > wholeFileBytes) return await asyncBufferFromFile(path);
    // A buffer of its own (not a slice of Node's pool), every byte read into it.
    const bytes = Buffer.allocUnsafeSlow(size);
    for (let done = 0; done < size; ) {
      const read = readSync(fd, bytes, done, size - done, done);
      if (read === 0) throw new Error(`the file shrank to ${done} bytes while being read (it had ${size})`);
      done += read;
    }
    return bytes.buffer;
  } finally {
    closeSync(fd);
  }
}

/** Byte ranges of a file read whole (views, no copies) or by range (hyparquet's file reader). */
function bytesOf(file: AsyncBuffer): ReadBytes {
  if (file instanceof ArrayBuffer) {
    return (start, end) => {
      if (end > file.byteLength) throw new Error(`a column chunk ends at byte ${end} of a ${file.byteLength}-byte file`);
      return new Uint8Array(file, start, end - start);
    };
  }
  return async (start, end) => new Uint8Array(await file.slice(start, end));
}

function timeKindOf(element: SchemaElement): 'timestamp' | 'number' | undefined {
  const logical = element.logical_type?.type;
  const converted = element.converted_type;
  if (logical === 'TIMESTAMP' || logical === 'DATE' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || converted === 'DATE' || element.type === 'INT96') return 'timestamp';
  return isNumeric(element) ? 'number' : undefined;
}

function isNumeric(element: SchemaElement): boolean {
  const logical = element.logical_type?.type;
  if (logical === 'TIMESTAMP' || logical === 'DATE' || logical === 'TIME' || element.converted_type === 'DATE' || element.converted_type?.startsWith('TIME')) return false;
  if (logical === 'DECIMAL' || element.converted_type === 'DECIMAL') return true;
  return element.type === 'INT32' || element.type === 'INT64' || element.type === 'FLOAT' || element.type === 'DOUBLE';
}

/**
 * Rows [start, end) of the row groups that may hold times in `union`, judged by the time column's statistics
 * (a group without them is read). Groups between two needed ones are read too: one contiguous scan.
 */
function rowSpan(metadata: FileMetaData, timeIndex: number, union: Array<[number, number]>): [number, number] {
  let start = Infinity;
  let end = -Infinity;
  let at = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    const stats = group.columns[timeIndex]?.meta_data?.statistics;
    const min = stats === undefined ? undefined : toDouble(stats.min_value ?? stats.min);
    const max = stats === undefined ? undefined : toDouble(stats.max_value ?? stats.max);
    const known = min !== undefined && max !== undefined && !Number.isNaN(min) && !Number.isNaN(max);
    if (!known || union.some(([from, to]) => min <= to && max >= from)) {
      start = Math.min(start, at);
      end = Math.max(end, at + rows);
    }
    at += rows;
  }
  return end > start ? [start, end] : [0, 0];
}
