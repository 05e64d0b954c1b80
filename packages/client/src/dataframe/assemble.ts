// Bringing partitions back to the client: one graph for all of them, fetched a bounded window at a time. Tables
// are concatenated once all have arrived (concatTables checks the schemas agree), with the readers' skipped-row
// counts summed into the result's schema metadata; partitions that are other values come back as an array.
import { RecordBatch, Schema, Table } from 'apache-arrow';
import { concatTables } from '@loom/partitions';
import { createLogger, describeValue, LoomError } from '@loom/protocol';
import type { Client } from '../client.js';
import type { Delayed } from '../delayed.js';

/** Schema metadata key under which readers report rows they skipped (onBadLines: 'skip'). */
export const SKIPPED_ROWS_KEY = 'loom.skipped_rows';

const log = createLogger('client', { component: 'dataframe' });

/** The partitions' values: one Table when every partition is a table, else the values in partition order. */
export async function assemblePartitions(client: Client, partitions: readonly Delayed<unknown>[], window: number): Promise<Table | unknown[]> {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  const futures = client.compute(partitions);
  try {
    const values: unknown[] = [];
    for (let start = 0; start < futures.length; start += window) {
      const batch = futures.slice(start, start + window);
      const fetched = await client.gather(batch);
      // Each window is released once fetched: from here on the client holds the only copy.
      for (const future of batch) future.release();
      for (const value of fetched) {
        checkSameKind(values[0], value, values.length);
        values.push(value);
      }
    }
    return values[0] instanceof Table ? concatenate(values as Table[]) : values;
  } finally {
    for (const future of futures) future.release();
  }
}

function concatenate(tables: Table[]): Table {
  // One concatenation (batches are linked, not copied), so its "table i" in a schema error is partition i.
  const table = concatTables(tables);
  const skipped = tables.reduce((sum, part) => sum + skippedRows(part), 0);
  if (skipped === 0) return table;
  log.warn({ skippedRows: skipped, partitions: tables.length }, `skipped ${skipped} bad rows while reading`);
  return withMetadata(table, SKIPPED_ROWS_KEY, String(skipped));
}

/** A table with no rows: of `schema` when known, else with no columns. */
export function emptyTable(schema: Schema | undefined): Table {
  return schema ? new Table(schema) : new Table();
}

/** Partitions are all tables (one Table) or all other values (an array): a mix has no sensible result. */
function checkSameKind(first: unknown, value: unknown, index: number): void {
  if (index === 0 || first instanceof Table === value instanceof Table) return;
  throw new LoomError(
    'TASK_FAILED',
    `partition ${index} is ${describe(value)} but partition 0 is ${describe(first)}: a DataFrame computes to one Arrow ` +
      `Table when every partition is a table, or to an array of values when none is; make mapPartitions' function ` +
      `return the same kind from every partition`,
  );
}

function skippedRows(table: Table): number {
  const value = table.schema.metadata.get(SKIPPED_ROWS_KEY);
  const count = value === undefined ? 0 : Number(value);
  return Number.isFinite(count) ? count : 0;
}

function withMetadata(table: Table, key: string, value: string): Table {
  const metadata = new Map(table.schema.metadata);
  metadata.set(key, value);
  const schema = new Schema(table.schema.fields, metadata, table.schema.dictionaries);
  return new Table(schema, table.batches.map((batch) => new RecordBatch(schema, batch.data)));
}

function describe(value: unknown): string {
  return value instanceof Table ? 'an Arrow Table' : `a value (${describeValue(value)})`;
}
