// The client side of readSnowflake: the query runs once, with asyncExec; when it has finished, its row count and
// row type, plus a sample of its first rows for their size, decide the partitions: contiguous row ranges that
// together cover the result exactly once. The sample is read the same way a partition is.
import type { Table } from 'apache-arrow';
import type { RowStatement } from 'snowflake-sdk';
import { PartitionError } from './errors.js';
import { planColumn, type SnowflakeColumnType, type SnowflakeTypeOptions } from './snowflake-columns.js';
import { readSnowflakePartition, type SnowflakeRange, type SnowflakeResult } from './snowflake-read.js';
import { openSession, queryError, submitAsync, type SnowflakeConnection } from './snowflake-session.js';

export interface SnowflakeQueryOptions {
  connection: SnowflakeConnection;
  typeOptions?: SnowflakeTypeOptions;
  /** Aborting cancels the query in Snowflake (the driver's abort request) and rejects with SNOWFLAKE_CANCELLED. */
  signal?: AbortSignal;
  /** Called with the query id as soon as Snowflake has accepted the query. */
  onSubmitted?: (queryId: string) => void;
}

export interface SnowflakeQueryResult {
  result: SnowflakeResult;
  /** Arrow bytes per row, measured on the first rows (0 for an empty result). */
  bytesPerRow: number;
}

const SAMPLE_ROWS = 1000;

/** Runs `query` once and waits for it to finish; the session is closed afterwards (results live on by id). */
export async function runSnowflakeQuery(query: string, options: SnowflakeQueryOptions): Promise<SnowflakeQueryResult> {
  const { connection: connectionOptions, typeOptions = {}, signal } = options;
  if (signal?.aborted) throw cancelled(undefined);
  const { connection } = await openSession(connectionOptions);
  let queryId: string | undefined;
  try {
    const submitted = await submitAsync(connection, query).catch((error: unknown) => {
      throw queryError(error, undefined, connectionOptions);
    });
    queryId = submitted.queryId;
    options.onSubmitted?.(queryId);
    const abort = () => submitted.statement.cancel(() => undefined);
    signal?.addEventListener('abort', abort, { once: true });
    let statement: RowStatement;
    try {
      // getResultsFromQueryId polls the query's status until it has finished, then fetches the result's
      // metadata; `complete` fires when that has arrived (streamResult: no rows are fetched yet).
      statement = await new Promise<RowStatement>((resolve, reject) => {
        connection.getResultsFromQueryId({
          queryId: queryId!, streamResult: true,
          complete: (error, fetched) => (error ? reject(error) : resolve(fetched as RowStatement)),
        }).catch(reject);
      });
    } catch (error) {
      throw signal?.aborted ? cancelled(queryId) : queryError(error, queryId, connectionOptions);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    const columns: SnowflakeColumnType[] = (statement.getColumns() ?? []).map((column) => ({
      name: column.getName(), type: column.getType(), precision: column.getPrecision() ?? null, scale: column.getScale() ?? null,
    }));
    columns.forEach((column) => planColumn(column, typeOptions)); // an unsupported type fails now, not on a worker
    const result: SnowflakeResult = { queryId, connection: connectionOptions, columns, rows: statement.getNumRows(), typeOptions };
    return { result, bytesPerRow: await measureRowBytes(result) };
  } finally {
    connection.destroy(() => undefined);
  }
}

async function measureRowBytes(result: SnowflakeResult): Promise<number> {
  const rows = Math.min(SAMPLE_ROWS, result.rows);
  if (rows === 0) return 0;
  const sample = await readSnowflakePartition(result, { start: 0, end: rows });
  return tableBytes(sample) / rows;
}

function tableBytes(table: Table): number {
  let bytes = 0;
  for (const batch of table.batches) {
    for (const child of batch.data.children) {
      for (const buffer of [child.values, child.valueOffsets, child.nullBitmap]) bytes += (buffer as ArrayBufferView | undefined)?.byteLength ?? 0;
    }
  }
  return bytes;
}

/**
 * Contiguous ranges covering [0, rows): `npartitions` near-equal ones, or as many as make each about
 * `partitionBytes` at `bytesPerRow`. Always at least one (an empty result is one empty partition).
 */
export function planSnowflakeRanges(rows: number, sizing: { npartitions: number } | { partitionBytes: number; bytesPerRow: number }): SnowflakeRange[] {
  const wanted = 'npartitions' in sizing
    ? sizing.npartitions
    : Math.ceil((rows * sizing.bytesPerRow) / Math.max(1, sizing.partitionBytes));
  const count = Math.max(1, Math.min(wanted, rows));
  const ranges: SnowflakeRange[] = [];
  for (let i = 0; i < count; i++) ranges.push({ start: Math.floor((i * rows) / count), end: Math.floor(((i + 1) * rows) / count) });
  return ranges;
}

function cancelled(queryId: string | undefined): PartitionError {
  return new PartitionError('SNOWFLAKE_CANCELLED', `Snowflake query was cancelled from the client${queryId === undefined ? '' : ` (query id ${queryId})`}`);
}
