// The worker-side partition functions of @loom/partitions as delayed wrappers (tasks name them by module
// reference, so workers import them), and the small helpers shipped as source.
// This is the only file that knows their argument order.
import type { Table } from 'apache-arrow';
import type { ReductionOp, ReductionSpec } from '@loom/partitions';
import { delayed, type Delayed } from '../delayed.js';

const PARTITIONS = '@loom/partitions';

function op(exportName: string, name?: string): (...args: unknown[]) => Delayed<unknown> {
  return delayed({ module: PARTITIONS, export: exportName }, name === undefined ? undefined : { name });
}

const readCsvBlockOp = op('readCsvBlock');
const inferCsvSchemaOp = op('inferCsvSchema');
const readParquetOp = op('readParquetPiece');
const sqlBoundsOp = op('sqlBounds');
const readSqlPartitionOp = op('readSqlPartition');
const tableFromIpcOp = op('tableFromIpcBytes');
const countRowsOp = op('countRows');
const sumNumbersOp = op('sumNumbers');
const headRowsOp = op('headRows');
const concatTablesOp = op('concatTables');
const filterRowsOp = op('filterRows');
const assignColumnsOp = op('assignColumns');
const selectColumnsOp = op('selectColumns');
const sliceRowsOp = op('sliceRows');

// Column reductions: the three task functions, named after the reduction so that a graph reads
// sum_partial -> sum_combine -> sum. Built once per reduction.
type Step = ReturnType<typeof op>;
const reductionSteps = new Map<ReductionOp, { partial: Step; combine: Step; finish: Step }>();

function reductionStepsOf(reduction: ReductionOp): { partial: Step; combine: Step; finish: Step } {
  let steps = reductionSteps.get(reduction);
  if (!steps) {
    steps = {
      partial: op('reducePartition', `${reduction}_partial`),
      combine: op('combinePartials', `${reduction}_combine`),
      finish: op('finishReduction', reduction),
    };
    reductionSteps.set(reduction, steps);
  }
  return steps;
}

// Where piece `piece` of `pieces` starts in a partition of `rows` rows (piece = pieces gives the end).
const pieceOffsetOp = delayed((rows: number, piece: number, pieces: number) => Math.floor((piece * rows) / pieces), {
  name: 'pieceOffset',
});

// A split partition's skipped-row count (schema metadata) stays with its first piece only, so that summing over
// partitions does not count it once per piece. The table is the task's own decoded copy, so changing it is safe.
const withoutSkippedRowsOp = delayed(
  (table: Table) => {
    table.schema.metadata.delete('loom.skipped_rows');
    return table;
  },
  { name: 'withoutSkippedRows' },
);

type Lazy<T> = T | Delayed<T>;

export const ops = {
  inferCsvSchema: (path: string, options: unknown) => inferCsvSchemaOp(path, options),
  readCsvBlock: (block: unknown, schema: Delayed<unknown>, options: unknown) => readCsvBlockOp(block, schema, options) as Delayed<Table>,
  readParquet: (piece: unknown) => readParquetOp(piece) as Delayed<Table>,
  sqlBounds: (query: string, options: unknown) => sqlBoundsOp(query, options),
  readSqlPartition: (query: string, options: unknown, bounds: Delayed<unknown>, index: number) =>
    readSqlPartitionOp(query, options, bounds, index) as Delayed<Table>,
  tableFromIpc: (bytes: Uint8Array) => tableFromIpcOp(bytes) as Delayed<Table>,
  countRows: (table: Delayed<Table>) => countRowsOp(table) as Delayed<number>,
  sumNumbers: (numbers: Delayed<number>[]) => sumNumbersOp(numbers) as Delayed<number>,
  headRows: (table: Delayed<Table>, n: number) => headRowsOp(table, n) as Delayed<Table>,
  concatTables: (tables: Delayed<Table>[]) => concatTablesOp(tables) as Delayed<Table>,
  filterRows: (table: Delayed<Table>, predicateSource: string) => filterRowsOp(table, predicateSource) as Delayed<Table>,
  assignColumns: (table: Delayed<Table>, sources: Record<string, string>) => assignColumnsOp(table, sources) as Delayed<Table>,
  selectColumns: (table: Delayed<Table>, columns: readonly string[]) => selectColumnsOp(table, columns) as Delayed<Table>,
  sliceRows: (table: Delayed<Table>, start: Lazy<number>, end: Lazy<number>) => sliceRowsOp(table, start, end) as Delayed<Table>,
  withoutSkippedRows: (table: Delayed<Table>) => withoutSkippedRowsOp(table) as Delayed<Table>,
  pieceOffset: (rows: Delayed<number>, piece: number, pieces: number) => pieceOffsetOp(rows, piece, pieces),
  reducePartition: (table: Delayed<Table>, spec: ReductionSpec) => reductionStepsOf(spec.op).partial(table, spec),
  combinePartials: (partials: Delayed<unknown>[], spec: ReductionSpec) => reductionStepsOf(spec.op).combine(partials, spec),
  finishReduction: (partials: Delayed<unknown>[], spec: ReductionSpec) => reductionStepsOf(spec.op).finish(partials, spec),
};
