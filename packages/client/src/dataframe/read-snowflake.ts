// dd.readSnowflake: the query runs once, now, on the client (asyncExec, then wait for it to finish); its row
// count and the measured width of its first rows decide the partitions; each partition task, on a worker, reads
// its own disjoint row range of the result by query id. A lost worker's partition is read again from the same
// query id (Snowflake keeps results for 24 hours), so no single process ever holds the whole result.
import { Schema } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import {
  planSnowflakeRanges, runSnowflakeQuery, snowflakeFields, type SnowflakeConnection, type SnowflakeRange, type SnowflakeResult, type SnowflakeTypeOptions,
} from '@loom/partitions';
import { parseBytes } from '@loom/protocol';
import { delayed, type Delayed } from '../delayed.js';
import { DataFrame } from './dataframe.js';

export interface ReadSnowflakeOptions extends SnowflakeTypeOptions {
  /**
   * snowflake-sdk connection options: account, username, password (or authenticator with privateKey or token),
   * warehouse, database, schema, role; `accessUrl` for a non-default endpoint. They travel to the workers with
   * each partition task, which open their own sessions; no error message or log line carries the credential.
   */
  connection: SnowflakeConnection;
  /** Bytes of Arrow data per partition, from the measured width of the first rows (default '100MiB'). */
  partitionSize?: string | number;
  /** Exactly this many partitions instead (near-equal row ranges). */
  npartitions?: number;
  /** Aborting while the query runs cancels it in Snowflake; the promise rejects with SNOWFLAKE_CANCELLED. */
  signal?: AbortSignal;
}

const DEFAULT_PARTITION_SIZE = 100 * 1024 * 1024;

// The worker-side reader, named by module reference (see partition-ops.ts for the others).
const readSnowflakePartitionOp = delayed({ module: '@loom/partitions', export: 'readSnowflakePartition' });

/** The rows of `query` as a DataFrame whose partitions are disjoint row ranges of its one result. */
export async function readSnowflake(query: string, options: ReadSnowflakeOptions): Promise<DataFrame> {
  const { connection, partitionSize = DEFAULT_PARTITION_SIZE, npartitions, signal, ...typeOptions } = options;
  if (typeof connection !== 'object' || connection === null || typeof connection.account !== 'string') {
    throw new TypeError('readSnowflake needs connection options with an account');
  }
  if (npartitions !== undefined && (!Number.isInteger(npartitions) || npartitions < 1)) {
    throw new RangeError(`npartitions must be a positive integer, got ${npartitions}`);
  }
  const partitionBytes = parseBytes(partitionSize);
  if (partitionBytes < 1) throw new RangeError(`partitionSize must be at least 1 byte, got ${String(partitionSize)}`);
  const { result, bytesPerRow } = await runSnowflakeQuery(query, { connection, typeOptions, ...(signal === undefined ? {} : { signal }) });
  const ranges = planSnowflakeRanges(result.rows, npartitions === undefined ? { partitionBytes, bytesPerRow } : { npartitions });
  return new DataFrame(ranges.map((range) => readPartition(result, range)), schemaOf(result));
}

function readPartition(result: SnowflakeResult, range: SnowflakeRange): Delayed<Table> {
  return readSnowflakePartitionOp(result, range) as Delayed<Table>;
}

function schemaOf(result: SnowflakeResult): Schema {
  return new Schema(snowflakeFields(result));
}
