// Bringing partitions back to the client: one graph for all of them, fetched a bounded window at a time and
// concatenated once all have arrived (concatTables checks the schemas agree), with the readers' skipped-row counts
// summed into the result's schema metadata.
import { RecordBatch, Schema, Table } from 'apache-arrow';
import { concatTables } from '@loom/partitions';
import { createLogger, LoomError } from '@loom/protocol';
import type { Client } from '../client.js';
import type { Delayed } from '../delayed.js';

/** Schema metadata key under which readers report rows they skipped (onBadLines: 'skip'). */
export const SKIPPED_ROWS_KEY = 'loom.skipped_rows';

const log = createLogger('client', { component: 'dataframe' });

export async function assemblePartitions(client: Client, partitions: readonly Delayed<Table>[], window: number): Promise<Table> {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  const futures = client.compute(partitions);
  try {
    const tables: Table[] = [];
    for (let start = 0; start < futures.length; start += window) {
      const batch = futures.slice(start, start + window);
      const values = await client.gather(batch);
      // Each window is released once fetched: from here on the client holds the only copy.
      for (const future of batch) future.release();
      values.forEach((value, offset) => tables.push(asTable(value, start + offset)));
    }
    // One concatenation (batches are linked, not copied), so its "table i" in a schema error is partition i.
    const table = concatTables(tables);
    const skipped = tables.reduce((sum, part) => sum + skippedRows(part), 0);
    if (skipped === 0) return table;
    log.warn({ skippedRows: skipped, partitions: partitions.length }, `skipped ${skipped} bad rows while reading`);
    return withMetadata(table, SKIPPED_ROWS_KEY, String(skipped));
  } finally {
    for (const future of futures) future.release();
  }
}

/** A table with no rows: of `schema` when known, else with no columns. */
export function emptyTable(schema: Schema | undefined): Table {
  return schema ? new Table(schema) : new Table();
}

function asTable(value: unknown, index: number): Table {
  if (value instanceof Table) return value;
  throw new LoomError(
    'TASK_FAILED',
    `partition ${index} is not an Arrow Table (got ${describe(value)}), so it cannot be assembled into one; ` +
      `a mapPartitions function returning other values can be computed through df.partitions with client.compute`,
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
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object (${Object.getPrototypeOf(value)?.constructor?.name ?? 'null prototype'})` : typeof value;
}
