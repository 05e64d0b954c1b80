// Runs a reduction as a cluster would, in one process: reducePartition per table, combinePartials over groups
// of `splitEvery`, finishReduction at the root, with every partial and the answer sent through the value codec
// as they would travel between workers (bigints, Sets and partial tables must survive it).
import { decodeValue, encodeValue } from '@loom/protocol';
import type { Table } from 'apache-arrow';
import { combinePartials, finishReduction, reducePartition, type ReductionResult, type ReductionSpec } from '../src/index.js';

export function reduceInTree<S extends ReductionSpec>(spec: S, tables: readonly Table[], splitEvery = 3): ReductionResult[S['op']] {
  let level = tables.map((table) => overTheWire(reducePartition(table, spec)));
  while (level.length > splitEvery) {
    const next: unknown[] = [];
    for (let start = 0; start < level.length; start += splitEvery) {
      next.push(overTheWire(combinePartials(level.slice(start, start + splitEvery), spec)));
    }
    level = next;
  }
  return overTheWire(finishReduction(level, spec));
}

export function overTheWire<T>(value: T): T {
  return decodeValue(encodeValue(value)) as T;
}
