// A DataFrame column reduction as a graph: @loom/partitions' reducePartition on every partition, combined by a
// tree of combinePartials, finished by finishReduction. The column is checked against the schema now when the
// schema is known at planning time; otherwise the first partial task reports it.
import type { Schema, Table } from 'apache-arrow';
import { checkReduction, type ReductionOp, type ReductionResult, type ReductionSpec } from '@loom/partitions';

/** A value of a column as Arrow JS reads it (bigint for 64-bit integers, epoch milliseconds for timestamps). */
export type { ColumnValue } from '@loom/partitions';
import type { Delayed } from '../delayed.js';
import { ops } from './partition-ops.js';
import { treeReduce, type TreeReduceOptions } from './reduce-tree.js';

export type ReduceOptions = TreeReduceOptions;

export interface VarianceOptions extends ReduceOptions {
  /** Delta degrees of freedom: the divisor is count - ddof (default 1, as pandas). */
  ddof?: number;
}

export interface DistinctOptions extends ReduceOptions {
  /** Leave nulls (and NaN) out (default true, as pandas); false counts them as one more value. */
  dropna?: boolean;
}

export function reduceColumn<Op extends ReductionOp>(
  partitions: readonly Delayed<Table>[],
  meta: Schema | undefined,
  spec: ReductionSpec & { op: Op },
  options: ReduceOptions,
): Delayed<ReductionResult[Op]> {
  if (typeof spec.column !== 'string') throw new TypeError(`${spec.op} needs a column name, got ${typeof spec.column}`);
  if (meta) checkReduction(meta, spec);
  return treeReduce(
    partitions.map((partition) => ops.reducePartition(partition, spec)),
    (group) => ops.combinePartials(group, spec),
    (group) => ops.finishReduction(group, spec) as Delayed<ReductionResult[Op]>,
    options,
  );
}

export function varianceSpec(op: 'var' | 'std', column: string, options: VarianceOptions): ReductionSpec & { op: 'var' | 'std' } {
  const ddof = options.ddof ?? 1;
  if (!Number.isInteger(ddof) || ddof < 0) throw new RangeError(`${op}: ddof must be a non-negative integer, got ${ddof}`);
  return { op, column, ddof };
}

export function distinctSpec<Op extends 'nunique' | 'valueCounts'>(op: Op, column: string, options: DistinctOptions): ReductionSpec & { op: Op } {
  const dropna = options.dropna ?? true;
  if (typeof dropna !== 'boolean') throw new TypeError(`${op}: dropna must be a boolean, got ${typeof dropna}`);
  return { op, column, dropna } as ReductionSpec & { op: Op };
}
