// @loom/partitions: the partition-level functions a Loom DataFrame is built from. Planning functions run in the
// client at graph-build time; the readers and table operations run on workers, named by module reference.
export { expandPaths } from './paths.js';
export { planCsvBlocks, type CsvBlock } from './csv-plan.js';
export type { CsvOptions, CsvSchema, CsvType } from './csv-types.js';
export { inferCsvSchema } from './csv-infer.js';
export { readCsvBlock } from './csv-read.js';
export { planParquet, readParquetPiece, type ParquetPiece } from './parquet.js';
export { readSqlPartition, sqlBounds, type SqlOptions } from './sql.js';
export { assignColumns, filterRows } from './row-functions.js';
export { concatTables, countRows, headRows, selectColumns, sliceRows, sumNumbers, tableFromIpcBytes } from './table-ops.js';
export {
  checkReduction, combinePartials, finishReduction, reducePartition, type ReductionOp, type ReductionResult, type ReductionSpec,
} from './reductions.js';
export type { ColumnKey as ColumnValue } from './reduction-column.js';
export { PartitionError, type PartitionErrorCode } from './errors.js';
export { SKIPPED_ROWS_KEY } from './table-meta.js';
