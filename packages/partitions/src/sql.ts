// SQL partitions over PostgreSQL, as Dask's read_sql_table: the index column's [min, max] is cut into npartitions
// equal slices, each read by one task with a parameterized range query. One connection per call, always closed.
import pg from 'pg';
import { Field, type Table } from 'apache-arrow';
import { buildColumn, tableFromColumns } from './arrow-build.js';
import { PartitionError } from './errors.js';
import { sqlColumn } from './sql-types.js';

export interface SqlOptions {
  connection: string | Record<string, unknown>;
  indexColumn: string;
  npartitions: number;
}

export async function sqlBounds(query: string, options: SqlOptions): Promise<{ min: number; max: number; rows: number }> {
  return withClient(options.connection, async (client) => {
    const column = client.escapeIdentifier(options.indexColumn);
    const result = await client.query<{ lo: string | null; hi: string | null; n: string }>(
      `SELECT min(${column})::text AS lo, max(${column})::text AS hi, count(*)::text AS n FROM (${subquery(query)}) AS loom_q`,
    );
    const row = result.rows[0];
    const rows = Number(row?.n ?? 0);
    if (row === undefined || rows === 0 || row.lo === null || row.hi === null) return { min: 0, max: 0, rows };
    const min = Number(row.lo);
    const max = Number(row.hi);
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
      throw new PartitionError('SQL_UNSUPPORTED', `index column ${JSON.stringify(options.indexColumn)} must be numeric; its range is ${row.lo} .. ${row.hi}`);
    }
    return { min, max, rows };
  });
}

export async function readSqlPartition(query: string, options: SqlOptions, bounds: { min: number; max: number }, index: number): Promise<Table> {
  const { npartitions } = options;
  if (!Number.isSafeInteger(npartitions) || npartitions < 1 || !Number.isSafeInteger(index) || index < 0 || index >= npartitions) {
    throw new PartitionError('SQL_UNSUPPORTED', `partition ${index} of ${npartitions} does not exist (npartitions must be a positive integer, 0 <= index < npartitions)`);
  }
  const lower = partitionBoundary(bounds, npartitions, index);
  const upper = partitionBoundary(bounds, npartitions, index + 1);
  const last = index === npartitions - 1;
  return withClient(options.connection, async (client) => {
    const column = client.escapeIdentifier(options.indexColumn);
    const result = await client.query<unknown[]>({
      text: `SELECT * FROM (${subquery(query)}) AS loom_q WHERE ${column} >= $1::numeric AND ${column} ${last ? '<=' : '<'} $2::numeric`,
      values: [String(lower), String(upper)],
      rowMode: 'array',
      types: { getTypeParser: () => (text: string) => text },
    });
    const columns = result.fields.map((field) => sqlColumn(field.dataTypeID, field.name));
    const fields = result.fields.map((field, c) => new Field(field.name, columns[c]!.type, true));
    const data = columns.map((column, c) =>
      buildColumn(column.type, result.rows.map((row) => (row[c] === null ? null : column.convert(row[c] as string)))),
    );
    return tableFromColumns(fields, data, result.rows.length);
  });
}

/**
 * Boundary k of n over [min, max]: equal slices, whole numbers when the range is integral (so an integer key is
 * compared with integers). Partition i is [boundary(i), boundary(i+1)), the last one closed at max.
 */
export function partitionBoundary(bounds: { min: number; max: number }, n: number, k: number): number {
  if (k <= 0) return bounds.min;
  if (k >= n) return bounds.max;
  const span = bounds.max - bounds.min;
  const step = (span * k) / n;
  return Number.isInteger(bounds.min) && Number.isInteger(bounds.max) ? bounds.min + Math.floor(step) : bounds.min + step;
}

function subquery(query: string): string {
  return query.trim().replace(/;+\s*$/, '');
}

/** One connection for `use`, in UTC, always closed; `applicationName` shows in pg_stat_activity. */
export async function withClient<T>(connection: SqlOptions['connection'], use: (client: pg.Client) => Promise<T>, applicationName?: string): Promise<T> {
  const config: pg.ClientConfig = typeof connection === 'string' ? { connectionString: connection } : { ...(connection as pg.ClientConfig) };
  if (applicationName !== undefined) config.application_name = applicationName;
  const client = new pg.Client(config);
  try {
    await client.connect();
    await client.query(`SET TIME ZONE 'UTC'`);
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
