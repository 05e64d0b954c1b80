// Loom's lazy, Arrow-native DataFrame (`import { dataframe as dd } from '@loom/client'`): readers that plan
// partitions at call time, per-partition transformations, reductions, and compute/persist on a cluster.
export { DataFrame, HeadResult, type Row, type MapPartitionsOptions, type RepartitionOptions, type ComputeOptions, type Computed } from './dataframe.js';
export type { ColumnValue, DistinctOptions, ReduceOptions, VarianceOptions } from './column-reductions.js';
export { DEFAULT_SPLIT_EVERY } from './reduce-tree.js';
export { readCsv, readParquet, readSql, fromArrow, concat, type ReadCsvOptions, type ReadSqlOptions, type FromArrowOptions } from './readers.js';
export { readSnowflake, type ReadSnowflakeOptions } from './read-snowflake.js';
export { planRepartition, type RepartitionOutput } from './repartition.js';
export { SKIPPED_ROWS_KEY } from './assemble.js';
export type { FileWriteOptions, PartitionWritten, ToCsvOptions, ToParquetOptions, ToSqlOptions, WriteSummary } from './writers.js';
// The same apache-arrow instance the client decodes partitions with, so `instanceof Table` holds for users too.
export * as arrow from 'apache-arrow';
