// Tree reductions, as Dask's split_every builds them: one partial per partition, groups of `splitEvery`
// neighbouring partials combined level by level, and one task that finishes the last group. No task has more
// than `splitEvery` inputs, so 10,000 partitions make about 1,430 small combine tasks in 5 levels (fan-in 8),
// not one task waiting on 10,000 values. Groups keep partition order, so order-sensitive merges stay right.
import type { Delayed } from '../delayed.js';

/** Dask's default fan-in for DataFrame reductions. */
export const DEFAULT_SPLIT_EVERY = 8;

export interface TreeReduceOptions {
  /** How many partials one combine task merges (default 8, at least 2). */
  splitEvery?: number;
}

export function treeReduce<P, R>(
  partials: readonly Delayed<P>[],
  combine: (group: Delayed<P>[]) => Delayed<P>,
  finish: (group: Delayed<P>[]) => Delayed<R>,
  options: TreeReduceOptions = {},
): Delayed<R> {
  const splitEvery = options.splitEvery ?? DEFAULT_SPLIT_EVERY;
  if (!Number.isInteger(splitEvery) || splitEvery < 2) throw new RangeError(`splitEvery must be an integer of at least 2, got ${splitEvery}`);
  let level = [...partials];
  while (level.length > splitEvery) {
    const next: Delayed<P>[] = [];
    for (let start = 0; start < level.length; start += splitEvery) {
      const group = level.slice(start, start + splitEvery);
      // A lone trailing partial needs no combine task of its own.
      next.push(group.length === 1 ? (group[0] as Delayed<P>) : combine(group));
    }
    level = next;
  }
  return finish(level);
}
