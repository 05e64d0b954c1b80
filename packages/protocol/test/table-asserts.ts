// Comparing Arrow tables in tests, whichever apache-arrow copy made them: column values as plain data, and the
// schema (names, types, nullability, metadata) field by field.
import assert from 'node:assert/strict';
import { Table } from 'apache-arrow';

/** What tables of any copy share for reading: the shape test code needs. */
export interface AnyTable {
  readonly numRows: number;
  readonly schema: { readonly fields: readonly unknown[] };
}

/** Column values in a form deepEqual compares exactly (vectors, rows and typed arrays become plain data). */
export function plain(table: AnyTable): Record<string, unknown[]> {
  const typed = table as unknown as Table;
  const out: Record<string, unknown[]> = {};
  for (const field of typed.schema.fields) {
    const vector = typed.getChild(field.name);
    assert.ok(vector, field.name);
    out[field.name] = Array.from({ length: vector.length }, (_, i) => plainValue(vector.get(i)));
  }
  return out;
}

function plainValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>, plainValue);
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return plainValue(json.call(value));
  if (Array.isArray(value)) return value.map(plainValue);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plainValue(item)]));
}

/** `actual` is a table of Loom's own apache-arrow with `expected`'s schema, metadata and values. */
export function assertSameTable(actual: unknown, expected: Table): asserts actual is Table {
  assert.ok(actual instanceof Object && Table.prototype.isPrototypeOf(actual), "a table of Loom's own apache-arrow");
  const table = actual as Table;
  assert.equal(table.numRows, expected.numRows);
  assert.deepEqual(
    table.schema.fields.map((f) => [f.name, String(f.type), f.nullable]),
    expected.schema.fields.map((f) => [f.name, String(f.type), f.nullable]),
  );
  assert.deepEqual([...table.schema.metadata], [...expected.schema.metadata]);
  assert.deepEqual(plain(table), plain(expected));
}
