// Reduction graphs without a cluster: the tree a reduction over many partitions builds (counted task by task),
// deterministic keys, checks made at call time when the schema is known, and the types mapPartitions gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionError } from '@loom/partitions';
import { delayed, delayedNode, type Delayed } from '../src/delayed.js';
import { dataframe as dd } from '../src/index.js';
import type { GraphNode } from '../src/task-node.js';

/** Every task of the graph behind `root`, once each. */
function tasksOf(root: Delayed<unknown>): Map<string, GraphNode> {
  const seen = new Map<string, GraphNode>();
  const stack = [delayedNode(root)];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node.key)) continue;
    seen.set(node.key, node);
    if (node.kind === 'task') stack.push(...node.dependencies);
  }
  return seen;
}

function prefixCounts(tasks: Map<string, GraphNode>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of tasks.keys()) {
    const prefix = key.replace(/-[0-9a-f]+$/, '');
    counts[prefix] = (counts[prefix] ?? 0) + 1;
  }
  return counts;
}

/** A frame of `n` cheap partitions (the graph is only built, never run). */
function frameOf(n: number): dd.DataFrame {
  const part = delayed((i: number) => i, { name: 'part' });
  return new dd.DataFrame(Array.from({ length: n }, (_, i) => part(i) as unknown as Delayed<dd.arrow.Table>));
}

test('a reduction over 10,000 partitions is a tree: no task has more than splitEvery inputs', () => {
  const df = frameOf(10_000);
  const tasks = tasksOf(df.sum('x'));
  // 10,000 partials; combines of 8 at each level: 1,250, then 157, 20 and 3; one sum at the root.
  assert.deepEqual(prefixCounts(tasks), { part: 10_000, sum_partial: 10_000, sum_combine: 1_250 + 157 + 20 + 3, sum: 1 });
  const widest = Math.max(...[...tasks.values()].map((node) => (node.kind === 'task' ? node.dependencies.length : 0)));
  assert.equal(widest, 8);
  // Fan-in 16 over 2,001: 125 combines and the lone last partial passed up as it is, then 8 combines of those
  // 126, then the root.
  const wider = prefixCounts(tasksOf(frameOf(2_001).valueCounts('x', { splitEvery: 16 })));
  assert.deepEqual(wider, { part: 2_001, valueCounts_partial: 2_001, valueCounts_combine: 125 + 8, valueCounts: 1 });
  // count() is a tree of sumNumbers over countRows.
  const counted = tasksOf(df.count());
  assert.equal(prefixCounts(counted)['countRows'], 10_000);
  assert.ok([...counted.values()].every((node) => node.kind !== 'task' || node.dependencies.length <= 8));
});

test('small frames need no combine; keys are deterministic and depend on the reduction and its options', () => {
  const df = frameOf(5);
  assert.deepEqual(prefixCounts(tasksOf(df.mean('x'))), { part: 5, mean_partial: 5, mean: 1 });
  assert.equal(df.sum('x').key, frameOf(5).sum('x').key);
  assert.notEqual(df.sum('x').key, df.sum('y').key);
  assert.notEqual(df.var('x').key, df.var('x', { ddof: 0 }).key);
  assert.notEqual(df.nunique('x').key, df.nunique('x', { dropna: false }).key);
  assert.equal(df.std('x').key, df.std('x', { ddof: 1 }).key, 'ddof 1 is the default');
  // The partial tasks do not depend on the tree's fan-in, so trees of different shapes share them.
  const partials = (root: Delayed<unknown>) => [...tasksOf(root).keys()].filter((key) => key.startsWith('sum_partial-')).sort();
  assert.deepEqual(partials(frameOf(20).sum('x', { splitEvery: 2 })), partials(frameOf(20).sum('x')));
  assert.deepEqual(prefixCounts(tasksOf(new dd.DataFrame([]).sum('x'))), { sum: 1 }, 'no partitions: the root alone');
});

test('options are checked, and with a known schema so is the column, before anything is submitted', () => {
  const df = frameOf(3);
  assert.throws(() => df.sum('x', { splitEvery: 1 }), /splitEvery must be an integer of at least 2/);
  assert.throws(() => df.var('x', { ddof: -1 }), /ddof must be a non-negative integer/);
  assert.throws(() => df.nunique('x', { dropna: 'no' as unknown as boolean }), /dropna must be a boolean/);
  const table = dd.arrow.tableFromArrays({ id: Int32Array.from([1, 2]), name: ['a', 'b'] });
  const known = dd.fromArrow(table, { npartitions: 2 });
  assert.throws(() => known.sum('nope'), (error: unknown) => error instanceof PartitionError && error.code === 'UNKNOWN_COLUMN' && /"nope"; the table has: "id", "name"/.test(error.message));
  assert.throws(() => known.mean('name'), (error: unknown) => error instanceof PartitionError && error.code === 'UNSUPPORTED_TYPE');
  assert.doesNotThrow(() => known.max('name'));
});

test('mapPartitions is typed by what its function returns', () => {
  const table = dd.arrow.tableFromArrays({ id: Int32Array.from([1, 2, 3]) });
  const df = dd.fromArrow(table, { npartitions: 3 });
  const sizes: dd.DataFrame<number> = df.mapPartitions((part) => part.numRows);
  const heads: dd.DataFrame = df.mapPartitions((part) => part.slice(0, 1));
  const later: dd.DataFrame<string> = df.mapPartitions(async (part) => String(part.numRows));
  // compute() resolves to the values for value partitions and to one Table for table partitions (types only:
  // the functions are not run here).
  const typed = (): [Promise<number[]>, Promise<dd.arrow.Table>, Promise<string[]>] => [sizes.compute(), heads.compute(), later.compute()];
  const misuse = () => {
    // @ts-expect-error table methods need table partitions
    sizes.filter(() => true);
    // @ts-expect-error so do reductions
    sizes.sum('x');
  };
  assert.equal(typeof typed, 'function');
  assert.equal(typeof misuse, 'function');
  assert.equal(sizes.npartitions, 3);
});
