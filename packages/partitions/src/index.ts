// @loom/partitions: the partition-level functions a Loom DataFrame is built from. Planning functions run in the
// client at graph-build time; the readers and table operations run on workers, named by module reference.
export { expandPaths } from './paths.js';
export { planCsvBlocks, type CsvBlock } from './csv-plan.js';
export type { CsvOptions, CsvSchema, CsvType } from './csv-types.js';
export { inferCsvSchema } from './csv-infer.js';
export { readCsvBlock } from './csv-read.js';
export { planParquet, readParquetPiece, type ParquetPiece } from './parquet.js';
export { readSqlPartition, sqlBounds, type SqlOptions } from './sql.js';
export { readSnowflakePartition, snowflakeFields, type SnowflakeRange, type SnowflakeResult } from './snowflake-read.js';
export { planSnowflakeRanges, runSnowflakeQuery, type SnowflakeQueryOptions, type SnowflakeQueryResult } from './snowflake-plan.js';
export type { SnowflakeColumnType, SnowflakeTypeOptions } from './snowflake-columns.js';
export type { SnowflakeConnection } from './snowflake-session.js';
export { assignColumns, filterRows } from './row-functions.js';
export { concatTables, countRows, headRows, selectColumns, sliceRows, sumNumbers, tableFromIpcBytes } from './table-ops.js';
export {
  checkReduction, combinePartials, finishReduction, reducePartition, type ReductionOp, type ReductionResult, type ReductionSpec,
} from './reductions.js';
export type { ColumnKey as ColumnValue } from './reduction-column.js';
export { PartitionError, type PartitionErrorCode } from './errors.js';
export { SKIPPED_ROWS_KEY } from './table-meta.js';
export {
  commitDirectory, newWriteId, partNumberWidth, prepareDirectory, type FileWriteTarget, type PartitionFile, type PreparedDirectory,
} from './write-files.js';
export { writeParquetPartition, type ParquetWriteOptions } from './write-parquet.js';
export { writeCsvPartition, resolveCsvWriteOptions, type CsvWriteOptions } from './write-csv.js';
export { writeColumns } from './write-columns.js';
export { copySqlPartition, type SqlColumn, type SqlPartitionWrite, type SqlWriteTarget } from './write-sql.js';
export { postgresType } from './write-sql-types.js';
export { discardSqlWrite, prepareSqlWrite, publishSqlWrite, type SqlWriteOptions } from './write-sql-publish.js';
