// toSql's partition step (worker side): one partition COPYed into its own staging table, named by the write id
// and the partition index. CREATE, TRUNCATE and COPY run in one transaction, so the staging table holds exactly
// one attempt's rows: a worker killed mid-COPY commits nothing (PostgreSQL aborts the transaction when its
// connection drops), and a retry elsewhere truncates whatever an earlier attempt committed. The publish step
// (write-sql-publish.ts) moves every staging table into the target in one transaction.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Table } from 'apache-arrow';
import { withClient, type SqlOptions } from './sql.js';
import { writeColumns, type WriteColumn } from './write-columns.js';
import { schemaMetadata } from './write-files.js';
import { copyFormatter, postgresType } from './write-sql-types.js';

/** Where toSql writes; built by the client, carried in every task's arguments. */
export interface SqlWriteTarget {
  connection: SqlOptions['connection'];
  /** The target table; `schema` qualifies it (default: the connection's search_path, usually public). */
  table: string;
  schema?: string;
  /** This write's id: it names the staging tables and the publish record. */
  writeId: string;
}

/** A column as written: its name and its PostgreSQL type. */
export interface SqlColumn {
  name: string;
  type: string;
}

export interface SqlPartitionWrite {
  partition: number;
  rows: number;
  columns: SqlColumn[];
  /** The partition's Arrow schema metadata, when it has any (see schemaMetadata). */
  metadata?: Record<string, string>;
}

/** The table that publishes are recorded in (in the target's schema): a publish whose id is there is done. */
export const PUBLISH_LOG = 'loom_write_log';

/** Rows are sent to COPY in pieces of about this many characters. */
const CHUNK_CHARS = 1 << 18;

export function stagingTableName(writeId: string, index: number): string {
  return `loom_stage_${writeId}_${index}`;
}

/** `schema.table` (or just `table`) with each part quoted. */
export function qualifiedName(client: pg.Client, schema: string | undefined, table: string): string {
  return schema === undefined ? client.escapeIdentifier(table) : `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`;
}

/** COPYs `table` into partition `index`'s staging table (worker side; one task per partition). */
export async function copySqlPartition(table: Table, target: SqlWriteTarget, index: number): Promise<SqlPartitionWrite> {
  const columns = writeColumns(table, 'toSql');
  const sqlColumns = columns.map((column) => ({ name: column.name, type: postgresType(column) }));
  const application = `loom toSql ${target.writeId} partition ${index} pid ${process.pid}`;
  await withClient(target.connection, async (client) => {
    if (await alreadyPublished(client, target)) return; // a late retry after the publish: nothing to stage
    const staging = qualifiedName(client, target.schema, stagingTableName(target.writeId, index));
    const names = columns.map((column) => client.escapeIdentifier(column.name)).join(', ');
    await client.query('BEGIN');
    try {
      // UNLOGGED: staging rows skip the WAL; the publish step checks their count, so a database crash that
      // empties an unlogged table fails the publish instead of losing rows.
      await client.query(`CREATE UNLOGGED TABLE IF NOT EXISTS ${staging} (${sqlColumns.map((c) => `${client.escapeIdentifier(c.name)} ${c.type}`).join(', ')})`);
      await client.query(`TRUNCATE ${staging}`);
      if (columns.length > 0 && table.numRows > 0) {
        await pipeline(Readable.from(copyChunks(columns, table.numRows)), client.query(copyFrom(`COPY ${staging} (${names}) FROM STDIN`)));
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }, application);
  const metadata = schemaMetadata(table);
  return { partition: index, rows: table.numRows, columns: sqlColumns, ...(metadata === undefined ? {} : { metadata }) };
}

export async function alreadyPublished(client: pg.Client, target: SqlWriteTarget): Promise<boolean> {
  const log = qualifiedName(client, target.schema, PUBLISH_LOG);
  const exists = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [log]);
  if (exists.rows[0]?.found == null) return false;
  const found = await client.query(`SELECT 1 FROM ${log} WHERE write_id = $1`, [target.writeId]);
  return found.rowCount === 1;
}

/** The rows in COPY's text format (tab-separated, `\N` for null), a piece at a time. */
function* copyChunks(columns: readonly WriteColumn[], rows: number): Generator<string> {
  const formats = columns.map(copyFormatter);
  let text = '';
  for (let row = 0; row < rows; row++) {
    for (let c = 0; c < columns.length; c++) {
      if (c > 0) text += '\t';
      const value = (columns[c] as WriteColumn).at(row);
      text += value === null ? '\\N' : (formats[c] as (value: unknown) => string)(value);
    }
    text += '\n';
    if (text.length >= CHUNK_CHARS) {
      yield text;
      text = '';
    }
  }
  if (text.length > 0) yield text;
}
