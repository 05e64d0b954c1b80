// The DataFrame writers: toParquet, toCsv (one file per partition) and toSql (PostgreSQL through COPY). The
// client prepares the destination, one task per partition writes on the workers, and the client commits once
// every task has succeeded: files are renamed into place by their own tasks (so a final name only ever holds
// a whole file) and the commit removes what they replace; SQL partitions land in staging tables that the
// commit moves into the target in one transaction. The worker-side halves live in @loom/partitions.
import { Table, type Schema } from 'apache-arrow';
import {
  commitDirectory, discardSqlWrite, newWriteId, partNumberWidth, postgresType, prepareDirectory, prepareSqlWrite, publishSqlWrite,
  resolveCsvWriteOptions, writeColumns, type CsvWriteOptions, type FileWriteTarget, type ParquetWriteOptions, type PartitionFile,
  type SqlPartitionWrite, type SqlWriteOptions, type SqlWriteTarget,
} from '@loom/partitions';
import type { Client } from '../client.js';
import { delayed, type Delayed } from '../delayed.js';

export interface FileWriteOptions {
  /** Replace what the directory holds (default false: a directory that is not empty is refused). */
  overwrite?: boolean;
  /** The client to run on (default: the current one). */
  client?: Client;
}

export interface ToParquetOptions extends FileWriteOptions, ParquetWriteOptions {}
export interface ToCsvOptions extends FileWriteOptions, CsvWriteOptions {}

export interface ToSqlOptions extends SqlWriteOptions {
  /** A PostgreSQL connection string, or node-postgres client options; the client and every worker connect. */
  connection: string | Record<string, unknown>;
  /** The table's schema (default: the connection's search_path). */
  schema?: string;
  /**
   * Names this write's staging tables and its record in loom_write_log. A job that is run again with the same
   * id after it published (its client died before it heard) adds nothing. Default: a random id.
   */
  writeId?: string;
  client?: Client;
}

/** What one partition's task wrote: a file (toParquet, toCsv) or a staging table's rows (toSql). */
export interface PartitionWritten {
  partition: number;
  rows: number;
  /** The file's path and size (file writers). */
  path?: string;
  bytes?: number;
  /**
   * The partition's Arrow schema metadata, when it has any: what its producer reported beside the rows, which
   * a file or a table has no place for (scoreMany's failed slices: read them with scoreFailures(summary)).
   */
  metadata?: Record<string, string>;
}

export interface WriteSummary {
  /** The directory (absolute) or the table. */
  target: string;
  partitions: PartitionWritten[];
  rows: number;
  /** toSql with a writeId already published: nothing was written, `rows` is what that write added. */
  alreadyPublished?: boolean;
}

const PARTITIONS = '@loom/partitions';
const writeParquetOp = delayed({ module: PARTITIONS, export: 'writeParquetPartition' }, { name: 'toParquet' });
const writeCsvOp = delayed({ module: PARTITIONS, export: 'writeCsvPartition' }, { name: 'toCsv' });
const copySqlOp = delayed({ module: PARTITIONS, export: 'copySqlPartition' }, { name: 'toSql' });

export async function writeParquet(
  client: Client, partitions: readonly Delayed<Table>[], meta: Schema | undefined, dir: string, options: ToParquetOptions,
): Promise<WriteSummary> {
  const { overwrite = false, client: _client, ...format } = options;
  return writeFiles(client, partitions, meta, dir, overwrite, 'toParquet', (partition, target) => writeParquetOp(partition, target, format));
}

export async function writeCsv(
  client: Client, partitions: readonly Delayed<Table>[], meta: Schema | undefined, dir: string, options: ToCsvOptions,
): Promise<WriteSummary> {
  const { overwrite = false, client: _client, ...format } = options;
  resolveCsvWriteOptions(format); // bad options fail here, before the directory is touched
  return writeFiles(client, partitions, meta, dir, overwrite, 'toCsv', (partition, target) => writeCsvOp(partition, target, format));
}

async function writeFiles(
  client: Client,
  partitions: readonly Delayed<Table>[],
  meta: Schema | undefined,
  dir: string,
  overwrite: boolean,
  what: string,
  task: (partition: Delayed<Table>, target: FileWriteTarget) => Delayed<unknown>,
): Promise<WriteSummary> {
  if (meta !== undefined) writeColumns(new Table(meta), what); // a type no file holds fails before any work
  const writeId = newWriteId();
  const prepared = prepareDirectory(dir, { overwrite, writeId });
  const width = partNumberWidth(partitions.length);
  const tasks = partitions.map((partition, index) => task(partition, { dir: prepared.dir, writeId, index, width }));
  const files = (await client.computeDelayed(tasks)) as PartitionFile[];
  commitDirectory(prepared, files, writeId);
  return { target: prepared.dir, partitions: files.map(({ partition, rows, path, bytes, metadata }) => ({ partition, rows, path, bytes, ...(metadata === undefined ? {} : { metadata }) })), rows: total(files) };
}

export async function writeSql(
  client: Client, partitions: readonly Delayed<Table>[], meta: Schema | undefined, table: string, options: ToSqlOptions,
): Promise<WriteSummary> {
  const { connection, schema, writeId = newWriteId(), create, ifExists } = options;
  if (typeof table !== 'string' || table === '') throw new TypeError('toSql needs a table name');
  if (!/^[A-Za-z0-9_]{1,32}$/.test(writeId)) throw new RangeError(`writeId must be 1-32 letters, digits or underscores (it names tables), got ${JSON.stringify(writeId)}`);
  const target: SqlWriteTarget = { connection, table, writeId, ...(schema === undefined ? {} : { schema }) };
  const shown = schema === undefined ? table : `${schema}.${table}`;
  const sqlOptions = { ...(create === undefined ? {} : { create }), ...(ifExists === undefined ? {} : { ifExists }) };
  const metaColumns = meta === undefined ? undefined : writeColumns(new Table(meta), 'toSql').map((column) => ({ name: column.name, type: postgresType(column) }));
  const published = await prepareSqlWrite(target, sqlOptions, metaColumns);
  if (published !== undefined) return { target: shown, partitions: [], rows: published, alreadyPublished: true };
  let staged: SqlPartitionWrite[];
  try {
    staged = (await client.computeDelayed(partitions.map((partition, index) => copySqlOp(partition, target, index)))) as SqlPartitionWrite[];
  } catch (error) {
    await discardSqlWrite(target, partitions.length);
    throw error;
  }
  const rows = await publishSqlWrite(target, sqlOptions, staged, metaColumns);
  return { target: shown, partitions: staged.map(({ partition, rows, metadata }) => ({ partition, rows, ...(metadata === undefined ? {} : { metadata }) })), rows };
}

function total(writes: readonly { rows: number }[]): number {
  return writes.reduce((sum, write) => sum + write.rows, 0);
}
