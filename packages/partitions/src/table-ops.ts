// Column- and row-range operations on one partition: select, head, slice, count, concat, and the sum that
// reduces per-partition counts. Metadata (loom.skipped_rows) is kept, and summed by concat.
import { Schema, Table, tableFromIPC } from 'apache-arrow';
import { PartitionError } from './errors.js';
import { SKIPPED_ROWS_KEY, skippedRows, withSchema } from './table-meta.js';

export function selectColumns(table: Table, columns: string[]): Table {
  const names = table.schema.fields.map((field) => field.name);
  const unknown = columns.filter((column) => !names.includes(column));
  if (unknown.length > 0) {
    throw new PartitionError('UNKNOWN_COLUMN', `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => JSON.stringify(c)).join(', ')}; the table has: ${names.join(', ')}`);
  }
  const selected = table.select(columns);
  return withSchema(selected, new Schema(selected.schema.fields, table.schema.metadata));
}

export function headRows(table: Table, n: number): Table {
  return table.slice(0, Math.max(0, n));
}

export function sliceRows(table: Table, start: number, end: number): Table {
  return table.slice(start, end);
}

export function countRows(table: Table): number {
  return table.numRows;
}

export function sumNumbers(values: number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** Tables with the same fields (names and types), one after another; their skipped-row counts add up. */
export function concatTables(tables: Table[]): Table {
  const first = tables[0];
  if (first === undefined) throw new PartitionError('SCHEMA_MISMATCH', 'concatTables needs at least one table');
  const expected = describeSchema(first.schema);
  let skipped = 0;
  let anySkipped = false;
  tables.forEach((table, i) => {
    const actual = describeSchema(table.schema);
    if (actual !== expected) {
      throw new PartitionError('SCHEMA_MISMATCH', `cannot concatenate tables with different schemas: table 0 has ${expected}, table ${i} has ${actual}`);
    }
    if (table.schema.metadata.has(SKIPPED_ROWS_KEY)) anySkipped = true;
    skipped += skippedRows(table);
  });
  const metadata = new Map(first.schema.metadata);
  if (anySkipped) metadata.set(SKIPPED_ROWS_KEY, String(skipped));
  const schema = new Schema(first.schema.fields, metadata);
  return new Table(schema, tables.flatMap((table) => withSchema(table, schema).batches));
}

/** `{ id: Int32, body: Utf8 }`: the schema as error messages show it. */
export function describeSchema(schema: Schema): string {
  return `{ ${schema.fields.map((field) => `${field.name}: ${String(field.type)}`).join(', ')} }`;
}

/**
 * A table embedded in a task's arguments as Arrow IPC stream bytes (DataFrame.fromArrow): task arguments are
 * plain data, so a client-side table travels as bytes and becomes a table again on the worker.
 */
export function tableFromIpcBytes(bytes: Uint8Array): Table {
  return tableFromIPC(bytes);
}
