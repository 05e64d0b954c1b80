// DataFrame graph shapes without a cluster: partitions per blocksize, deterministic keys, the shared schema
// task, row-function checks and repartition plans.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoomError } from '@loom/protocol';
import { delayedNode, type Delayed } from '../src/delayed.js';
import { dataframe as dd } from '../src/index.js';
import type { TaskNode } from '../src/task-node.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'loom-df-unit-'));
  for (let file = 0; file < 3; file++) {
    let text = 'id,name,score\n';
    for (let row = 0; row < 400; row++) text += `${file * 1000 + row},name-${row},${row % 17}\n`;
    writeFileSync(join(dir, `part-${file}.csv`), text);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

function task(value: Delayed<unknown>): TaskNode {
  const node = delayedNode(value);
  assert.equal(node.kind, 'task');
  return node as TaskNode;
}

function csvBytes(): number[] {
  return [0, 1, 2].map((file) => statSync(join(dir, `part-${file}.csv`)).size);
}

test('readCsv makes one partition per block; blocksize takes sizes and byte counts', () => {
  const sizes = csvBytes();
  const blocksize = 2048;
  const expected = sizes.reduce((sum, size) => sum + Math.ceil(size / blocksize), 0);
  assert.ok(expected > 3, 'several blocks per file');
  assert.equal(dd.readCsv(join(dir, '*.csv'), { blocksize: '2KiB' }).npartitions, expected);
  assert.equal(dd.readCsv(join(dir, '*.csv'), { blocksize }).npartitions, expected);
  assert.equal(dd.readCsv(join(dir, '*.csv'), { blocksize: '1MiB' }).npartitions, 3, 'one block per small file');
  assert.equal(dd.readCsv(join(dir, 'part-1.csv'), { blocksize: '1MiB' }).npartitions, 1);
  assert.throws(() => dd.readCsv(join(dir, '*.csv'), { blocksize: 'lots' }), /invalid byte size/);
});

test('readCsv keys are deterministic and every block depends on one shared schema task', () => {
  const first = dd.readCsv(join(dir, '*.csv'), { blocksize: '2KiB' });
  const again = dd.readCsv(join(dir, '*.csv'), { blocksize: '2KiB' });
  const keys = first.partitions.map((partition) => partition.key);
  assert.deepEqual(again.partitions.map((partition) => partition.key), keys);
  assert.equal(new Set(keys).size, keys.length, 'every block has its own key');
  assert.ok(keys.every((key) => key.startsWith('readCsvBlock-')));
  const schemaKeys = new Set(first.partitions.map((partition) => task(partition).dependencies.map((dependency) => dependency.key).join()));
  assert.equal(schemaKeys.size, 1, 'one schema task for all blocks');
  assert.match([...schemaKeys][0] as string, /^inferCsvSchema-/);
  const other = dd.readCsv(join(dir, '*.csv'), { blocksize: '2KiB', delimiter: ';' });
  assert.notEqual(other.partitions[0]?.key, keys[0], 'options are part of the key');

  // A rewritten file gets new keys for its blocks (its mtime and size are hashed); the others keep theirs.
  const path = join(dir, 'part-2.csv');
  writeFileSync(path, readFileSync(path, 'utf8') + '9999,late,1\n');
  const rewritten = dd.readCsv(join(dir, '*.csv'), { blocksize: '2KiB' });
  const before = new Map(first.partitions.map((partition, i) => [partition.key, i]));
  const changed = rewritten.partitions.filter((partition) => !before.has(partition.key)).length;
  const blocksOfLast = Math.ceil(statSync(path).size / 2048);
  assert.equal(changed, blocksOfLast, "only the rewritten file's blocks have new keys");
});

test('transformations build one task per partition and never run anything', () => {
  const df = dd.readCsv(join(dir, '*.csv'), { blocksize: '4KiB' });
  const shaped = df
    .filter((row: { score: number }) => row.score > 3)
    .select(['id', 'score'])
    .assign({ double: (row: { score: number }) => row.score * 2 });
  assert.equal(shaped.npartitions, df.npartitions);
  const last = task(shaped.partitions[0] as Delayed<unknown>);
  assert.match(last.key, /^assignColumns-/);
  assert.match(last.dependencies[0]?.key ?? '', /^selectColumns-/);
  const count = df.count();
  assert.match(count.key, /^sumNumbers-/);
  const counts = task(count).dependencies;
  assert.equal(counts.length, df.npartitions, 'one countRows per partition feeds the sum');
  assert.ok(counts.every((dependency) => dependency.key.startsWith('countRows-')));
  assert.equal(df.count().key, count.key);
});

test('filter and assign refuse row functions that use variables from around them', () => {
  const df = dd.readCsv(join(dir, '*.csv'));
  const threshold = 3;
  assert.throws(
    () => df.filter((row: { score: number }) => row.score > threshold),
    (error: unknown) => isLoomError(error) && error.code === 'FREE_VARIABLE' && /'threshold'/.test(error.message),
  );
  assert.throws(
    () => df.assign({ bonus: (row: { score: number }) => row.score + threshold }),
    (error: unknown) => isLoomError(error) && error.code === 'FREE_VARIABLE' && /'threshold'/.test(error.message),
  );
  assert.throws(() => df.mapPartitions((table) => table.slice(0, threshold)), (error: unknown) => isLoomError(error) && error.code === 'FREE_VARIABLE');
  // The same value passed as an argument is fine.
  assert.equal(df.mapPartitions((table, n: number) => table.slice(0, n), { args: [threshold] }).npartitions, 3);
});

test('repartition plans: fewer concatenates adjacent partitions, more splits each one', () => {
  assert.deepEqual(dd.planRepartition(5, 2), [
    { kind: 'concat', inputs: [0, 1] },
    { kind: 'concat', inputs: [2, 3, 4] },
  ]);
  assert.deepEqual(dd.planRepartition(3, 3), [0, 1, 2].map((i) => ({ kind: 'concat', inputs: [i] })));
  assert.deepEqual(dd.planRepartition(2, 5), [
    { kind: 'slice', input: 0, piece: 0, pieces: 3 },
    { kind: 'slice', input: 0, piece: 1, pieces: 3 },
    { kind: 'slice', input: 0, piece: 2, pieces: 3 },
    { kind: 'slice', input: 1, piece: 0, pieces: 2 },
    { kind: 'slice', input: 1, piece: 1, pieces: 2 },
  ]);
  assert.throws(() => dd.planRepartition(3, 0), RangeError);

  const df = dd.readCsv(join(dir, '*.csv'), { blocksize: '1MiB' });
  const fewer = df.repartition({ npartitions: 2 });
  assert.equal(fewer.npartitions, 2);
  assert.equal(fewer.partitions[0]?.key, df.partitions[0]?.key, 'a group of one is the partition itself');
  assert.match(fewer.partitions[1]?.key ?? '', /^concatTables-/);
  const more = df.repartition({ npartitions: 7 });
  assert.equal(more.npartitions, 7);
  // The first piece of each split partition is its slice; later pieces also drop the skipped-row count.
  assert.deepEqual(
    more.partitions.map((partition) => partition.key.replace(/-.*/, '')),
    ['sliceRows', 'withoutSkippedRows', 'withoutSkippedRows', 'sliceRows', 'withoutSkippedRows', 'sliceRows', 'withoutSkippedRows'],
  );
  assert.equal(new Set(more.partitions.map((partition) => partition.key)).size, 7);
  assert.deepEqual(df.repartition({ npartitions: 3 }).partitions, df.partitions, 'same count: unchanged');
});

test('fromArrow splits a local table into contiguous embedded partitions', () => {
  const table = dd.arrow.tableFromArrays({ x: Int32Array.from({ length: 10 }, (_, i) => i) });
  const df = dd.fromArrow(table, { npartitions: 4 });
  assert.equal(df.npartitions, 4);
  assert.equal(df.meta, table.schema);
  assert.deepEqual(dd.fromArrow(table, { npartitions: 4 }).partitions.map((p) => p.key), df.partitions.map((p) => p.key));
  assert.equal(dd.fromArrow(table.slice(0, 2), { npartitions: 4 }).npartitions, 2, 'never more partitions than rows');
});
