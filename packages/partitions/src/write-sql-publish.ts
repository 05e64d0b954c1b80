// toSql's checks before the partitions run and its publish after they all have (client side, as a Spark driver
// commits a job): in one transaction the target is created or replaced as asked, every staging table's rows are
// moved into it and the staging tables dropped, and the write id is recorded in loom_write_log. So the target
// gains all of the write's rows or none, and a publish that runs again (a retry, a re-run with the same write
// id) finds its record and adds nothing.
import type pg from 'pg';
import { PartitionError } from './errors.js';
import { withClient } from './sql.js';
import { fitsColumn } from './write-sql-types.js';
import {
  alreadyPublished, PUBLISH_LOG, qualifiedName, stagingTableName, type SqlColumn, type SqlPartitionWrite, type SqlWriteTarget,
} from './write-sql.js';

export interface SqlWriteOptions {
  /** Create the table from the columns' types when it does not exist (default false). */
  create?: boolean;
  /** When the table exists: 'fail' (default), 'append', or 'replace' (dropped and created again, in the publish transaction). */
  ifExists?: 'append' | 'replace' | 'fail';
}

/** Resolves the options and checks the target before any partition is written. Rows already published under this write id, if any. */
export async function prepareSqlWrite(target: SqlWriteTarget, options: SqlWriteOptions, columns: readonly SqlColumn[] | undefined): Promise<number | undefined> {
  const { create, ifExists } = resolveSqlWriteOptions(options);
  return withClient(target.connection, async (client) => {
    if (await alreadyPublished(client, target)) return publishedRows(client, target);
    const existing = await existingColumns(client, target);
    checkTarget(target, existing, { create, ifExists }, columns);
    return undefined;
  }, `loom toSql ${target.writeId} prepare`);
}

/** Moves every partition's staging rows into the target in one transaction; the rows the write added. */
export async function publishSqlWrite(
  target: SqlWriteTarget,
  options: SqlWriteOptions,
  partitions: readonly SqlPartitionWrite[],
  fallbackColumns: readonly SqlColumn[] | undefined,
): Promise<number> {
  const { create, ifExists } = resolveSqlWriteOptions(options);
  const columns = agreedColumns(partitions) ?? fallbackColumns;
  return withClient(target.connection, async (client) => {
    const name = qualifiedName(client, target.schema, target.table);
    const log = qualifiedName(client, target.schema, PUBLISH_LOG);
    await client.query(`CREATE TABLE IF NOT EXISTS ${log} (write_id text PRIMARY KEY, target text NOT NULL, rows bigint NOT NULL, published_at timestamptz NOT NULL DEFAULT now())`);
    await client.query('BEGIN');
    try {
      // Taken first, so that two publishes of one write id queue here and the second sees the first's record.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`loom toSql ${target.writeId}`]);
      if (await alreadyPublished(client, target)) {
        const rows = await publishedRows(client, target);
        await client.query('COMMIT');
        return rows;
      }
      let existing = await existingColumns(client, target);
      checkTarget(target, existing, { create, ifExists }, columns);
      if (existing !== undefined && ifExists === 'replace') {
        await client.query(`DROP TABLE ${name}`);
        existing = undefined;
      }
      if (existing === undefined && columns !== undefined) {
        await client.query(`CREATE TABLE ${name} (${columns.map((c) => `${client.escapeIdentifier(c.name)} ${c.type}`).join(', ')})`);
      }
      let rows = 0;
      for (const partition of partitions) {
        const staging = qualifiedName(client, target.schema, stagingTableName(target.writeId, partition.partition));
        const staged = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${staging}`);
        if (Number(staged.rows[0]?.n) !== partition.rows) {
          throw new PartitionError('WRITE_STAGING_LOST', `toSql: staging table for partition ${partition.partition} holds ${staged.rows[0]?.n} rows, its task wrote ${partition.rows} (was the database restarted? unlogged tables are emptied by a crash); run the write again`);
        }
        if (partition.columns.length > 0) {
          const names = partition.columns.map((c) => client.escapeIdentifier(c.name)).join(', ');
          await client.query(`INSERT INTO ${name} (${names}) SELECT ${names} FROM ${staging}`);
        }
        await client.query(`DROP TABLE ${staging}`);
        rows += partition.rows;
      }
      await client.query(`INSERT INTO ${log} (write_id, target, rows) VALUES ($1, $2, $3)`, [target.writeId, name, rows]);
      await client.query('COMMIT');
      return rows;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      await dropStaging(client, target, partitions);
      throw error;
    }
  }, `loom toSql ${target.writeId} publish`);
}

/** Drops the write's staging tables (after a failed publish, or a failed partition), best effort. */
export async function discardSqlWrite(target: SqlWriteTarget, npartitions: number): Promise<void> {
  await withClient(target.connection, async (client) => {
    const indexes = Array.from({ length: npartitions }, (_, i) => ({ partition: i }));
    await dropStaging(client, target, indexes);
  }, `loom toSql ${target.writeId} discard`).catch(() => undefined);
}

async function dropStaging(client: pg.Client, target: SqlWriteTarget, partitions: readonly { partition: number }[]): Promise<void> {
  for (const { partition } of partitions) {
    await client.query(`DROP TABLE IF EXISTS ${qualifiedName(client, target.schema, stagingTableName(target.writeId, partition))}`).catch(() => undefined);
  }
}

function resolveSqlWriteOptions(options: SqlWriteOptions): Required<SqlWriteOptions> {
  const { create = false, ifExists = 'fail' } = options;
  if (ifExists !== 'append' && ifExists !== 'replace' && ifExists !== 'fail') {
    throw new PartitionError('BAD_VALUE', `ifExists must be 'append', 'replace' or 'fail', got ${JSON.stringify(ifExists)}`);
  }
  return { create, ifExists };
}

function checkTarget(
  target: SqlWriteTarget,
  existing: SqlColumn[] | undefined,
  options: Required<SqlWriteOptions>,
  columns: readonly SqlColumn[] | undefined,
): void {
  const shown = target.schema === undefined ? JSON.stringify(target.table) : `${JSON.stringify(target.schema)}.${JSON.stringify(target.table)}`;
  if (existing === undefined) {
    if (!options.create && options.ifExists !== 'replace') {
      throw new PartitionError('WRITE_TABLE_MISSING', `toSql: table ${shown} does not exist; pass create: true to create it from the DataFrame's schema`);
    }
    return;
  }
  if (options.ifExists === 'fail') {
    throw new PartitionError('WRITE_TARGET_EXISTS', `toSql: table ${shown} already exists; pass ifExists: 'append' or 'replace'`);
  }
  if (options.ifExists === 'append' && columns !== undefined) checkColumns(shown, existing, columns);
}

/** Every written column must be in the table, of a type that holds its values. */
function checkColumns(shown: string, existing: readonly SqlColumn[], columns: readonly SqlColumn[]): void {
  for (const column of columns) {
    const there = existing.find((c) => c.name === column.name);
    if (there === undefined) {
      throw new PartitionError('SCHEMA_MISMATCH', `toSql: table ${shown} has no column ${JSON.stringify(column.name)} (${column.type} in the DataFrame); its columns are ${existing.map((c) => c.name).join(', ')}`);
    }
    if (!fitsColumn(column.type, there.type)) {
      throw new PartitionError('SCHEMA_MISMATCH', `toSql: column ${JSON.stringify(column.name)} is ${column.type} in the DataFrame but ${there.type} in table ${shown}`);
    }
  }
}

/** The columns every partition wrote (they must agree, as concat would require); undefined without partitions. */
function agreedColumns(partitions: readonly SqlPartitionWrite[]): SqlColumn[] | undefined {
  const [first, ...rest] = partitions;
  if (first === undefined) return undefined;
  const describe = (columns: readonly SqlColumn[]) => columns.map((c) => `${c.name} ${c.type}`).join(', ');
  for (const other of rest) {
    if (describe(other.columns) !== describe(first.columns)) {
      throw new PartitionError('SCHEMA_MISMATCH', `toSql: partition ${other.partition} has columns (${describe(other.columns)}), partition ${first.partition} has (${describe(first.columns)})`);
    }
  }
  return first.columns;
}

async function existingColumns(client: pg.Client, target: SqlWriteTarget): Promise<SqlColumn[] | undefined> {
  const name = qualifiedName(client, target.schema, target.table);
  const found = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [name]);
  const oid = found.rows[0]?.oid;
  if (oid == null) return undefined;
  const result = await client.query<SqlColumn>(
    'SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
    [oid],
  );
  return result.rows;
}

async function publishedRows(client: pg.Client, target: SqlWriteTarget): Promise<number> {
  const result = await client.query<{ rows: string }>(`SELECT rows::text AS rows FROM ${qualifiedName(client, target.schema, PUBLISH_LOG)} WHERE write_id = $1`, [target.writeId]);
  return Number(result.rows[0]?.rows ?? 0);
}
