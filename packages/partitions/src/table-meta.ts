// Schema metadata Loom attaches to partitions, and rebuilding a table under a new schema (Arrow's Table keeps
// the schema of its batches, so metadata changes mean re-wrapping every batch).
import { RecordBatch, Schema, Table } from 'apache-arrow';

/** Rows a CSV reader dropped under `onBadLines: 'skip'`; the client sums it over partitions. */
export const SKIPPED_ROWS_KEY = 'loom.skipped_rows';

export function withSchema(table: Table, schema: Schema): Table {
  return new Table(schema, table.batches.map((batch) => new RecordBatch(schema, batch.data)));
}

export function withMetadata(table: Table, metadata: Map<string, string>): Table {
  return withSchema(table, new Schema(table.schema.fields, metadata, table.schema.dictionaries));
}

export function skippedRows(table: Table): number {
  const value = table.schema.metadata.get(SKIPPED_ROWS_KEY);
  return value === undefined ? 0 : Number(value);
}
