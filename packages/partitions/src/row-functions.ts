// Row-wise user code over a partition: `filterRows` keeps the rows a predicate accepts, `assignColumns` adds or
// replaces columns computed per row. User source is compiled once per source text (cached); rows are plain
// objects with one hidden class, built from per-column value arrays only to call the user's function.
import { Field, makeData, RecordBatch, Schema, Struct, Table, type DataType, type Vector } from 'apache-arrow';
import { buildColumn, tableFromColumns } from './arrow-build.js';
import { PartitionError } from './errors.js';
import { inferArrowType } from './infer-arrow-type.js';

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
  const keep: number[] = [];
  forEachRow(table, (row, i) => {
    if (callUser(predicate, row, i, predicateSource)) keep.push(i);
  });
  return keep.length === table.numRows ? table : takeRows(table, keep);
}

export function assignColumns(table: Table, assignments: Record<string, string>): Table {
  const entries = Object.entries(assignments).map(([name, source]) => ({ name, source, fn: compileRowFunction(source), values: [] as unknown[] }));
  forEachRow(table, (row, i) => {
    for (const entry of entries) {
      const value = callUser(entry.fn, row, i, entry.source);
      entry.values.push(value === undefined ? null : value);
    }
  });
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

/** The rows at `indices` (ascending), every column's type kept, through Arrow builders. */
export function takeRows(table: Table, indices: number[]): Table {
  const fields = table.schema.fields;
  const children = fields.map((field, c) => {
    const vector = table.getChildAt(c) as Vector;
    return buildColumn(field.type as DataType, indices.map((i) => vector.get(i) as unknown));
  });
  return tableFromColumns(fields, children, indices.length, table.schema.metadata);
}

/** Calls `visit(row, i)` with a plain-object row for each row; every row object shares one shape. */
function forEachRow(table: Table, visit: (row: Record<string, unknown>, i: number) => void): void {
  const names = table.schema.fields.map((field) => field.name);
  const values = names.map((_, c) => Array.from(table.getChildAt(c) as Vector as Iterable<unknown>, (v) => v ?? null));
  // A generated constructor gives every row the same hidden class, so user code stays monomorphic.
  const makeRow = new Function('v', 'i', `return { ${names.map((name, c) => `${JSON.stringify(name)}: v[${c}][i]`).join(', ')} };`) as
    (v: unknown[][], i: number) => Record<string, unknown>;
  for (let i = 0; i < table.numRows; i++) visit(makeRow(values, i), i);
}

function callUser(fn: RowFunction, row: Record<string, unknown>, i: number, source: string): unknown {
  try {
    return fn(row);
  } catch (error) {
    const shown = JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    throw new PartitionError('USER_FUNCTION_FAILED', `row function ${source} failed on row ${i} ${shown}: ${(error as Error).message}`, { cause: error });
  }
}
