// Where DataFrames come from. Planning runs now, on the client, with @loom/partitions' planners (glob, stat,
// Parquet footers), so npartitions is known at once; reading runs on the workers, one task per partition.
import { statSync } from 'node:fs';
import { tableToIPC, type Table } from 'apache-arrow';
import { expandPaths, planCsvBlocks, planParquet, type CsvOptions } from '@loom/partitions';
import { asLoomTable, describeValue, parseBytes, readArrowIpc, type ArrowTableLike } from '@loom/protocol';
import { DataFrame } from './dataframe.js';
import { ops } from './partition-ops.js';

/** CSV options (@loom/partitions' CsvOptions: delimiter, header, onBadLines, dtypes, sampleBytes) plus the blocksize. */
export interface ReadCsvOptions extends CsvOptions {
  /** Bytes per partition: a number or a size such as '64MiB' (default 64MiB). Rows belong to the block they start in. */
  blocksize?: string | number;
}

export interface ReadSqlOptions {
  /** A PostgreSQL connection string, or node-postgres client options. */
  connection: string | Record<string, unknown>;
  /** A numeric column the query returns, split into ranges: one per partition. */
  indexColumn: string;
  /** How many partitions (default 1). */
  npartitions?: number;
}

export interface FromArrowOptions {
  /** How many partitions (default 1); rows are split into near-equal contiguous ranges. */
  npartitions?: number;
}

const DEFAULT_BLOCKSIZE = 64 * 1024 * 1024;

/**
 * CSV files matching `pattern` (a glob or a list of paths), one partition per block of about `blocksize` bytes.
 * The schema is inferred once, from the first file, by one task every block depends on.
 */
export function readCsv(pattern: string | readonly string[], options: ReadCsvOptions = {}): DataFrame {
  const { blocksize = DEFAULT_BLOCKSIZE, ...csvOptions } = options;
  const bytes = parseBytes(blocksize);
  if (bytes < 1) throw new RangeError(`blocksize must be at least 1 byte, got ${String(blocksize)}`);
  const paths = expandPaths(typeof pattern === 'string' ? pattern : [...pattern]);
  const versions = fileVersions(paths);
  const blocks = planCsvBlocks(paths, bytes);
  const schema = ops.inferCsvSchema(paths[0] as string, csvOptions);
  return new DataFrame(blocks.map((block) => ops.readCsvBlock({ ...block, version: versions.get(block.path) }, schema, csvOptions)));
}

/** Parquet files matching `pattern`, one partition per row group (footers are read now, on the client). */
export function readParquet(pattern: string | readonly string[]): DataFrame {
  const paths = expandPaths(typeof pattern === 'string' ? pattern : [...pattern]);
  const versions = fileVersions(paths);
  return new DataFrame(planParquet(paths).map((piece) => ops.readParquet({ ...piece, version: versions.get(piece.path) })));
}

/**
 * The rows of `query` split by ranges of `indexColumn`: one `sqlBounds` task finds the column's minimum and
 * maximum, then each partition reads its range.
 */
export function readSql(query: string, options: ReadSqlOptions): DataFrame {
  const { npartitions = 1, connection, indexColumn } = options;
  if (!Number.isInteger(npartitions) || npartitions < 1) throw new RangeError(`npartitions must be a positive integer, got ${npartitions}`);
  if (connection === '' || (typeof connection !== 'string' && (typeof connection !== 'object' || connection === null))) {
    throw new TypeError('readSql needs a connection string or options object');
  }
  if (typeof indexColumn !== 'string' || indexColumn === '') throw new TypeError('readSql needs an indexColumn');
  const sqlOptions = { connection, indexColumn, npartitions };
  const bounds = ops.sqlBounds(query, sqlOptions);
  const partitions = [];
  for (let i = 0; i < npartitions; i++) partitions.push(ops.readSqlPartition(query, sqlOptions, bounds, i));
  return new DataFrame(partitions);
}

/**
 * Each file's modification time and size. They ride along in the block or piece a task reads (the readers
 * ignore them) so that task keys, which hash the arguments, change when a file does: a rewritten file is read
 * again instead of matching a result still held under the old key (Dask tokenizes mtimes the same way).
 */
function fileVersions(paths: readonly string[]): Map<string, string> {
  return new Map(paths.map((path) => {
    const stats = statSync(path);
    return [path, `${stats.mtimeMs}:${stats.size}`];
  }));
}

/**
 * A local table split into contiguous partitions, each embedded in its task as Arrow IPC bytes. `table` may be
 * an Arrow table of any apache-arrow copy or version (another copy's is rebuilt over the same buffers), or Arrow
 * IPC bytes in the stream or file format.
 */
export function fromArrow(table: Table | ArrowTableLike | Uint8Array | ArrayBuffer, options: FromArrowOptions = {}): DataFrame {
  const { npartitions = 1 } = options;
  if (!Number.isInteger(npartitions) || npartitions < 1) throw new RangeError(`npartitions must be a positive integer, got ${npartitions}`);
  return splitTable(localTable(table), npartitions);
}

function localTable(value: unknown): Table {
  if (value instanceof ArrayBuffer) return readArrowIpc(new Uint8Array(value), 'the bytes given to fromArrow');
  if (value instanceof Uint8Array) return readArrowIpc(value, 'the bytes given to fromArrow');
  const table = asLoomTable(value, 'the table given to fromArrow');
  if (table === undefined) throw new TypeError(`fromArrow needs an Arrow table or Arrow IPC bytes, got ${describeValue(value)}`);
  return table;
}

function splitTable(table: Table, npartitions: number): DataFrame {
  const count = Math.min(npartitions, Math.max(1, table.numRows));
  const partitions = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * table.numRows) / count);
    const end = Math.floor(((i + 1) * table.numRows) / count);
    partitions.push(ops.tableFromIpc(tableToIPC(table.slice(start, end), 'stream')));
  }
  return new DataFrame(partitions, table.schema);
}

/** The partitions of several DataFrames, one after another (their schemas must agree when computed). */
export function concat(frames: readonly DataFrame[]): DataFrame {
  return new DataFrame(frames.flatMap((frame) => frame.partitions));
}
