// The worker side of readSnowflake: one partition is the row range [start, end) of a finished query's result,
// fetched by query id (results stay available for 24 hours, so a lost worker's partition is simply read again)
// and streamed row by row into Arrow columns. A session that expires mid-read is re-opened and the stream
// resumes at the first row not yet appended.
import type { Connection, RowStatement } from 'snowflake-sdk';
import type { Field, Table } from 'apache-arrow';
import { tableFromColumns } from './arrow-build.js';
import { PartitionError } from './errors.js';
import { columnAccumulator, planColumn, type ColumnAccumulator, type ColumnPlan, type SnowflakeColumnType, type SnowflakeTypeOptions } from './snowflake-columns.js';
import {
  dropSession, executeStatement, isRetryable, queryError, sessionFor, type SnowflakeConnection, type SnowflakeSession,
} from './snowflake-session.js';

/** A finished query's result as the partitions see it: where to read it and what its columns are. */
export interface SnowflakeResult {
  queryId: string;
  connection: SnowflakeConnection;
  columns: SnowflakeColumnType[];
  /** Rows in the whole result. */
  rows: number;
  typeOptions: SnowflakeTypeOptions;
}

export interface SnowflakeRange {
  start: number;
  end: number;
}

// How often one partition re-opens its session before giving up; each retry resumes where the last stopped.
const MAX_SESSION_RETRIES = 3;

// Values the driver would otherwise convert into JS objects: NUMBER as its exact text (no float rounding, no
// big-integer objects), VARIANT as its JSON text (not parsed and re-serialized).
const FETCH_AS_STRING = ['Number', 'JSON'] as const;

// TIME reaches JS only as text in TIME_OUTPUT_FORMAT; nine fractional digits keep every nanosecond.
const TIME_FORMAT = `ALTER SESSION SET TIME_OUTPUT_FORMAT = 'HH24:MI:SS.FF9'`;

export async function readSnowflakePartition(result: SnowflakeResult, range: SnowflakeRange): Promise<Table> {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > result.rows) {
    throw new PartitionError('SNOWFLAKE_FAILED', `row range [${start}, ${end}) is not inside the result's ${result.rows} rows`);
  }
  const plans = columnPlans(result);
  const accumulators = plans.map(columnAccumulator);
  await readRange(result, start, end, accumulators);
  return tableFromColumns(plans.map((plan) => plan.field), accumulators.map((accumulator) => accumulator.finish()), end - start);
}

/** The Arrow fields every partition of `result` has. */
export function snowflakeFields(result: SnowflakeResult): Field[] {
  return columnPlans(result).map((plan) => plan.field);
}

function columnPlans(result: SnowflakeResult): ColumnPlan[] {
  return result.columns.map((column) => planColumn(column, result.typeOptions));
}

/** Appends rows [start, end) of the result to `accumulators`, re-opening the session as needed. */
export async function readRange(result: SnowflakeResult, start: number, end: number, accumulators: ColumnAccumulator[]): Promise<void> {
  const cursor = { next: start };
  for (let attempt = 0; cursor.next < end; attempt++) {
    try {
      const session = await sessionFor(result.connection);
      await prepareSession(session, result);
      await streamInto(session.connection, result, cursor, end, accumulators);
    } catch (error) {
      if (error instanceof PartitionError && error.code === 'SNOWFLAKE_AUTH') throw error;
      if (!isRetryable(error) || attempt >= MAX_SESSION_RETRIES) throw queryError(error, result.queryId, result.connection);
      dropSession(result.connection);
    }
  }
}

async function prepareSession(session: SnowflakeSession, result: SnowflakeResult): Promise<void> {
  if (!result.columns.some((column) => column.type === 'time') || session.settings.has(TIME_FORMAT)) return;
  await executeStatement(session.connection, TIME_FORMAT);
  session.settings.add(TIME_FORMAT);
}

/**
 * Streams rows [cursor.next, end) into the accumulators, advancing the cursor past each row appended (so after a
 * failure it names the row to resume at). The row stream is iterated, so the driver reads, and downloads
 * chunks, only as fast as rows are consumed.
 */
async function streamInto(connection: Connection, result: SnowflakeResult, cursor: { next: number }, end: number, accumulators: ColumnAccumulator[]): Promise<void> {
  const statement = await connection.getResultsFromQueryId({
    queryId: result.queryId, streamResult: true, rowMode: 'array', fetchAsString: [...FETCH_AS_STRING],
  }) as RowStatement;
  const from = cursor.next;
  // The driver's `end` is the index of the last row, inclusive.
  const rows = statement.streamRows({ start: from, end: end - 1 });
  try {
    for await (const row of rows as AsyncIterable<unknown[]>) {
      if (cursor.next === from) checkColumns(statement, result);
      for (let c = 0; c < accumulators.length; c++) accumulators[c]!.append(row[c]);
      cursor.next++;
    }
  } finally {
    rows.destroy();
  }
  if (cursor.next !== end) {
    throw new PartitionError('SNOWFLAKE_FAILED', `query ${result.queryId}: expected rows [${from}, ${end}) but the result ended at row ${cursor.next}`);
  }
}

/** The columns read now must be the ones the plan was made from (same query id, so a mismatch is a bug). */
function checkColumns(statement: RowStatement, result: SnowflakeResult): void {
  const columns = statement.getColumns() ?? [];
  const same = columns.length === result.columns.length &&
    columns.every((column, c) => column.getName() === result.columns[c]!.name && column.getType() === result.columns[c]!.type);
  if (!same) throw new PartitionError('SCHEMA_MISMATCH', `query ${result.queryId}: the result's columns differ from those planned`);
}
