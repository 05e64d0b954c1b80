// Column reductions as three worker functions a tree of tasks is built from: reducePartition (one small partial
// per partition), combinePartials (a group of partials into one, in order) and finishReduction (the last group
// into the answer). Nulls are skipped as pandas' skipna does; what each reduction returns is documented at
// ReductionResult and in the client's DataFrame README.
import type { Schema, Table } from 'apache-arrow';
import { columnFamily, reductionColumn, requireFamily, type ColumnFamily, type ColumnKey, type ReductionColumn } from './reduction-column.js';
import { finishMean, finishSum, finishVariance, mergeMoments, mergeSums, momentsPartial, sumPartial, type MomentsPartial, type SumPartial } from './reduce-moments.js';
import { extremePartial, mergeExtremes, type ExtremePartial } from './reduce-extrema.js';
import {
  emptyValueCounts, finishUnique, finishValueCounts, mergeUniques, mergeValueCounts, uniquePartial, valueCountsPartial, type UniquePartial,
} from './reduce-distinct.js';

export type ReductionSpec =
  | { op: 'sum' | 'mean' | 'min' | 'max'; column: string }
  | { op: 'var' | 'std'; column: string; ddof: number }
  | { op: 'nunique' | 'valueCounts'; column: string; dropna: boolean };

export type ReductionOp = ReductionSpec['op'];

/** What finishReduction returns for each op. */
export interface ReductionResult {
  /** bigint for integer and bool columns (exact), number for float columns; 0 when there is no value. */
  sum: number | bigint;
  /** null when there is no value (pandas: NaN). */
  mean: number | null;
  /** null when there are no more values than ddof. */
  var: number | null;
  std: number | null;
  /** The value as Arrow JS reads the column (bigint for 64-bit integers, epoch ms for timestamps); null when none. */
  min: ColumnKey | null;
  max: ColumnKey | null;
  nunique: number;
  /** An Arrow table { value, count: Int64 }, most frequent first, ties in order of first appearance. */
  valueCounts: Table;
}

interface Reduction<P> {
  /** The column families it reads (a Null column always passes: it has no values). */
  readonly families: readonly ColumnFamily[];
  partial(column: ReductionColumn, spec: ReductionSpec): P;
  /** Partials merged in order; undefined for none. */
  merge(partials: readonly P[], column: string): P | undefined;
  finish(partial: P | undefined, spec: ReductionSpec): unknown;
}

const NUMERIC = ['int', 'float', 'bool'] as const;
const ORDERED = ['int', 'float', 'bool', 'string', 'temporal'] as const;

function pairwise<P>(merge: (a: P, b: P, column: string) => P): (partials: readonly P[], column: string) => P | undefined {
  return (partials, column) => (partials.length === 0 ? undefined : partials.reduce((a, b) => merge(a, b, column)));
}

const sum: Reduction<SumPartial> = {
  families: NUMERIC,
  partial: (column) => sumPartial(column),
  merge: pairwise(mergeSums),
  finish: (partial) => (partial === undefined ? 0 : finishSum(partial)),
};

function moments(finish: (variance: number | null) => number | null): Reduction<MomentsPartial> {
  return {
    families: NUMERIC,
    partial: (column) => momentsPartial(column),
    merge: pairwise(mergeMoments),
    finish: (partial, spec) => (partial === undefined ? null : finish(finishVariance(partial, (spec as { ddof: number }).ddof))),
  };
}

function extreme(which: 'min' | 'max'): Reduction<ExtremePartial> {
  return {
    families: ORDERED,
    partial: (column) => extremePartial(column, which),
    merge: pairwise((a, b, column) => mergeExtremes(a, b, which, column)),
    finish: (partial) => partial?.value ?? null,
  };
}

const nunique: Reduction<UniquePartial> = {
  families: ORDERED,
  partial: (column) => uniquePartial(column),
  merge: (partials, column) => (partials.length === 0 ? undefined : mergeUniques(partials, column)),
  finish: (partial, spec) => (partial === undefined ? 0 : finishUnique(partial, dropnaOf(spec))),
};

const valueCounts: Reduction<Table> = {
  families: ORDERED,
  partial: (column, spec) => valueCountsPartial(column, dropnaOf(spec)),
  merge: (tables, column) => (tables.length === 0 ? undefined : mergeValueCounts(tables, column)),
  finish: (table) => (table === undefined ? emptyValueCounts() : finishValueCounts(table)),
};

// Each reduction's partials are its own business: the registry forgets their types, the task functions only
// hand them from one task to the next.
const REDUCTIONS: Record<ReductionOp, Reduction<unknown>> = {
  sum: erase(sum),
  mean: erase({ ...sum, finish: (partial) => (partial === undefined ? null : finishMean(partial)) }),
  var: erase(moments((variance) => variance)),
  std: erase(moments((variance) => (variance === null ? null : Math.sqrt(variance)))),
  min: erase(extreme('min')),
  max: erase(extreme('max')),
  nunique: erase(nunique),
  valueCounts: erase(valueCounts),
};

function erase<P>(reduction: Reduction<P>): Reduction<unknown> {
  return reduction as unknown as Reduction<unknown>;
}

/** The partial of one partition (worker task). */
export function reducePartition(table: Table, spec: ReductionSpec): unknown {
  const reduction = reductionOf(spec);
  const column = reductionColumn(table, spec.column, spec.op);
  requireFamily(column, reduction.families, spec.op);
  return reduction.partial(column, spec);
}

/** Several partials, in partition order, as one (worker task: an inner node of the tree). */
export function combinePartials(partials: unknown[], spec: ReductionSpec): unknown {
  return reductionOf(spec).merge(partials, spec.column);
}

/** The answer from the last partials, in partition order (worker task: the root of the tree). */
export function finishReduction<S extends ReductionSpec>(partials: unknown[], spec: S): ReductionResult[S['op']] {
  const reduction = reductionOf(spec);
  return reduction.finish(reduction.merge(partials, spec.column), spec) as ReductionResult[S['op']];
}

/** Throws what reducePartition would for `schema` (UNKNOWN_COLUMN, UNSUPPORTED_TYPE): lets a client fail early. */
export function checkReduction(schema: Schema, spec: ReductionSpec): void {
  const family = columnFamily(schema, spec.column, spec.op);
  const field = schema.fields.find((candidate) => candidate.name === spec.column)!;
  requireFamily({ name: spec.column, type: field.type, family }, reductionOf(spec).families, spec.op);
}

function reductionOf(spec: ReductionSpec): Reduction<unknown> {
  const reduction = (REDUCTIONS as Partial<Record<string, Reduction<unknown>>>)[spec.op];
  if (reduction === undefined) throw new TypeError(`unknown reduction ${JSON.stringify(spec.op)}`);
  return reduction;
}

function dropnaOf(spec: ReductionSpec): boolean {
  return (spec as { dropna: boolean }).dropna;
}
