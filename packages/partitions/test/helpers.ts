// Shared test helpers: a per-file temporary directory and plain row values out of Arrow tables.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Table, Vector } from 'apache-arrow';

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `loom-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Rows as arrays of plain values (list items become plain arrays), in schema order. */
export function rowsOf(table: Table): unknown[][] {
  const columns = table.schema.fields.map((_, c) => table.getChildAt(c) as Vector);
  const rows: unknown[][] = [];
  for (let i = 0; i < table.numRows; i++) {
    rows.push(columns.map((column) => {
      const value: unknown = column.get(i);
      return value !== null && typeof value === 'object' && 'toArray' in value ? Array.from((value as { toArray(): ArrayLike<unknown> }).toArray()) : value;
    }));
  }
  return rows;
}

/** A seeded generator, so a randomized test's failing case can be made again from its seed. */
export { seededRandom } from '@loom/testing';
