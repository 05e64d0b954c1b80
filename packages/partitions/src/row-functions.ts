// Row-wise user code over a partition: `filterRows` keeps the rows a predicate accepts, `assignColumns` adds or
// replaces columns computed per row. User source is compiled once per source text (cached); rows are plain
// objects with one hidden class, built from per-column value arrays only to call the user's function.
import { Field, makeData, RecordBatch, Schema, Struct, Table, type DataType } from 'apache-arrow';
import { buildColumn } from './arrow-build.js';
import { PartitionError } from './errors.js';
import { inferArrowType } from './infer-arrow-type.js';
import { withRowView } from './row-view.js';
import { takeRows } from './take.js';

type RowFunction = (row: Record<string, unknown>) => unknown;

const compiled = new Map<string, RowFunction>();
const MAX_CACHED = 256;

export function compileRowFunction(source: string): RowFunction {
  let fn = compiled.get(source);
  if (fn === undefined) {
    let made: unknown;
    try {
      // User code shipped on purpose, as with delayed(): the source is the API.
      made = new Function(`"use strict"; return (${source});`)();
    } catch (error) {
      throw new PartitionError('USER_FUNCTION_FAILED', `cannot compile row function ${JSON.stringify(source)}: ${(error as Error).message}`, { cause: error });
    }
    if (typeof made !== 'function') {
      throw new PartitionError('USER_FUNCTION_FAILED', `row function source must evaluate to a function, got ${typeof made}: ${source}`);
    }
    fn = made as RowFunction;
    if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(source, fn);
  }
  return fn;
}

export function filterRows(table: Table, predicateSource: string): Table {
  const predicate = compileRowFunction(predicateSource);
  const keep = new Int32Array(table.numRows);
  let kept = 0;
  forEachRow(table, (row, i) => {
    if (predicate(row)) keep[kept++] = i;
  }, () => predicateSource);
  return kept === table.numRows ? table : takeRows(table, keep.subarray(0, kept));
}

export function assignColumns(table: Table, assignments: Record<string, string>): Table {
  const entries = Object.entries(assignments).map(([name, source]) => ({ name, source, fn: compileRowFunction(source), values: new Array<unknown>(table.numRows) }));
  let failing = '';
  forEachRow(table, (row, i) => {
    for (const entry of entries) {
      failing = entry.source;
      const value = entry.fn(row);
      entry.values[i] = value === undefined ? null : value;
    }
  }, () => failing);
  const fields = [...table.schema.fields];
  const columns: Array<{ at: number; values: unknown[]; type: DataType }> = [];
  for (const entry of entries) {
    let at = fields.findIndex((field) => field.name === entry.name);
    const type = inferArrowType(entry.values, entry.name, at === -1 ? undefined : (fields[at] as Field).type);
    if (at === -1) at = fields.push(new Field(entry.name, type, true)) - 1;
    else fields[at] = new Field(entry.name, type, true);
    columns.push({ at, values: entry.values.map((v) => (v instanceof Date ? v.getTime() : v)), type });
  }
  const schema = new Schema(fields, table.schema.metadata);
  // New columns are cut along the table's record batches, so existing columns are reused without copying.
  let offset = 0;
  const batches = table.batches.map((batch) => {
    const children = [...batch.data.children];
    for (const column of columns) {
      children[column.at] = buildColumn(column.type, column.values.slice(offset, offset + batch.numRows)) as (typeof children)[number];
    }
    offset += batch.numRows;
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
  });
  return new Table(schema, batches);
}

/**
 * Calls `visit(row, i)` for each row, with one reused row view (row-view.ts) whose columns are read only when
 * the user function touches them. A throw becomes USER_FUNCTION_FAILED naming the row and its values.
 */
function forEachRow(table: Table, visit: (row: Record<string, unknown>, i: number) => void, source: () => string): void {
  withRowView(table.schema, (view) => {
    let base = 0;
    let i = 0;
    try {
      for (const batch of table.batches) {
        view.bind(batch);
        const n = batch.numRows;
        for (i = 0; i < n; i++) {
          view.at(i);
          visit(view.row, base + i);
        }
        base += n;
      }
    } catch (error) {
      throw userFailure(source(), base + i, view.row, error);
    }
  });
}

function userFailure(source: string, i: number, row: Record<string, unknown>, error: unknown): PartitionError {
  let shown: string;
  try {
    shown = JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  } catch {
    shown = '(row not printable)';
  }
  return new PartitionError('USER_FUNCTION_FAILED', `row function ${source} failed on row ${i} ${shown}: ${(error as Error).message}`, { cause: error });
}
