// Partition-level helpers of a training run: vectorizing, counting rows, and finding the label classes.
import type { Table } from 'apache-arrow';
import { MlError } from '../errors.js';
import { vectorizeText, type VectorizeOptions } from '../text/vectorize.js';

export function vectorizePartition(table: Table, options: VectorizeOptions): Table {
  return vectorizeText(table, options);
}

export function countRows(table: Table): number {
  return table.numRows;
}

/** The distinct values of a label column, as strings (the form classes are matched by), sorted. */
export function distinctLabels(table: Table, column: string): string[] {
  const vector = table.getChild(column);
  if (vector === null) {
    throw new MlError('INVALID_ARGUMENT', `no label column '${column}' (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`);
  }
  const seen = new Set<string>();
  for (let row = 0; row < vector.length; row++) {
    const value: unknown = vector.get(row);
    if (value === null || value === undefined) throw new MlError('INVALID_ARGUMENT', `row ${row} has no value in label column '${column}'`);
    seen.add(String(value));
    if (seen.size > 100_000) throw new MlError('INVALID_ARGUMENT', `label column '${column}' has over 100000 distinct values`);
  }
  return [...seen].sort();
}

export function mergeLabels(...lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}
