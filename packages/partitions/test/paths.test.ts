// Expanding file patterns: globs with *, ?, **, classes and alternatives give sorted absolute paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expandPaths, PartitionError } from '../src/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir('paths');
for (const file of ['a.csv', 'b.csv', 'c.txt', 'sub/d.csv', 'sub/deeper/e.csv', 'part-1.csv', 'part-2.csv']) {
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), 'x\n');
}
const rel = (paths: string[]) => paths.map((path) => relative(dir, path));

test('globs expand to sorted absolute paths', () => {
  assert.deepEqual(rel(expandPaths(join(dir, '*.csv'))), ['a.csv', 'b.csv', 'part-1.csv', 'part-2.csv']);
  assert.deepEqual(rel(expandPaths(join(dir, '**/*.csv'))), ['a.csv', 'b.csv', 'part-1.csv', 'part-2.csv', 'sub/d.csv', 'sub/deeper/e.csv']);
  assert.deepEqual(rel(expandPaths(join(dir, 'part-?.csv'))), ['part-1.csv', 'part-2.csv']);
  assert.deepEqual(rel(expandPaths(join(dir, '[ab].{csv,txt}'))), ['a.csv', 'b.csv']);
  assert.deepEqual(rel(expandPaths([join(dir, 'c.txt'), join(dir, 'a.csv'), join(dir, 'a.csv')])), ['a.csv', 'c.txt']);
  assert.ok(expandPaths(join(dir, 'a.csv'))[0]?.startsWith('/'));
});

test('a pattern that matches nothing is a clear error', () => {
  assert.throws(() => expandPaths(join(dir, '*.parquet')), (error: unknown) =>
    error instanceof PartitionError && error.code === 'NO_FILES' && error.message.includes('*.parquet'));
  assert.throws(() => expandPaths(join(dir, 'missing.csv')), /no file matches/);
});
