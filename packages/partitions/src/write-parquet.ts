// Writing one partition as a Parquet file (hyparquet-writer), with the schema an Arrow reader such as pyarrow
// maps back to the same Arrow types: integers with their width and sign as INTEGER logical types, text as
// STRING, dates as DATE, timestamps as INT64 TIMESTAMP in their own unit (seconds as milliseconds), adjusted
// to UTC exactly when the Arrow column has a zone (the Parquet spec's rule, which pyarrow's writer follows).
import { TimeUnit } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import type { SchemaElement } from 'hyparquet';
import { fileWriter, parquetWrite } from 'hyparquet-writer';
import { PartitionError } from './errors.js';
import { NANOS_PER_UNIT, writeColumns, type WriteColumn } from './write-columns.js';
import { schemaMetadata, writePartitionFile, type FileWriteTarget, type PartitionFile } from './write-files.js';

export interface ParquetWriteOptions {
  /** 'SNAPPY' (default, as pyarrow) or 'UNCOMPRESSED'. */
  compression?: 'SNAPPY' | 'UNCOMPRESSED';
  /** Rows per row group (default 1,048,576, pyarrow's); Loom's readParquet makes one partition per row group. */
  rowGroupSize?: number;
}

export const DEFAULT_ROW_GROUP_SIZE = 1_048_576;

/** Writes `table` as `target`'s part file (worker side; one task per partition). */
export async function writeParquetPartition(table: Table, target: FileWriteTarget, options: ParquetWriteOptions = {}): Promise<PartitionFile> {
  const { compression = 'SNAPPY', rowGroupSize = DEFAULT_ROW_GROUP_SIZE } = options;
  if (compression !== 'SNAPPY' && compression !== 'UNCOMPRESSED') {
    throw new PartitionError('BAD_VALUE', `Parquet compression must be 'SNAPPY' or 'UNCOMPRESSED', got ${JSON.stringify(compression)}`);
  }
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) throw new PartitionError('BAD_VALUE', `rowGroupSize must be a positive integer, got ${rowGroupSize}`);
  const columns = writeColumns(table, 'toParquet');
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }, ...columns.map(schemaElement)];
  const columnData = columns.map((column) => ({ name: column.name, data: columnValues(column, table.numRows), nullable: column.nullable }));
  return writePartitionFile(target, 'parquet', schemaMetadata(table), async (_handle, path) => {
    // fileWriter appends to the temporary file by path, in 1 MB chunks as the encoder fills them (bounded
    // memory); writePartitionFile's handle is on the same file, so its fsync covers what was appended.
    parquetWrite({ writer: fileWriter(path), columnData, schema, codec: compression, rowGroupSize, createdBy: 'loom' });
    return table.numRows;
  });
}

function schemaElement(column: WriteColumn): SchemaElement {
  const repetition_type = column.nullable ? 'OPTIONAL' : 'REQUIRED';
  const { name } = column;
  switch (column.kind) {
    case 'bool':
      return { name, repetition_type, type: 'BOOLEAN' };
    case 'int':
      return { name, repetition_type, ...intElement(column) };
    case 'int64':
      return column.signed
        ? { name, repetition_type, type: 'INT64' }
        : { name, repetition_type, type: 'INT64', converted_type: 'UINT_64', logical_type: { type: 'INTEGER', bitWidth: 64, isSigned: false } };
    case 'float':
      return { name, repetition_type, type: String(column.type) === 'Float64' ? 'DOUBLE' : 'FLOAT' };
    case 'utf8':
      return { name, repetition_type, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'binary':
      return { name, repetition_type, type: 'BYTE_ARRAY' };
    case 'date':
      return { name, repetition_type, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'timestamp': {
      const unit = parquetUnit(column.unit);
      const isAdjustedToUTC = column.timezone !== undefined;
      // converted_type only where it says the same (it implies adjusted to UTC), so old readers agree.
      const converted_type = isAdjustedToUTC && unit !== 'NANOS' ? (unit === 'MILLIS' ? 'TIMESTAMP_MILLIS' : 'TIMESTAMP_MICROS') : undefined;
      return { name, repetition_type, type: 'INT64', ...(converted_type ? { converted_type } : {}), logical_type: { type: 'TIMESTAMP', isAdjustedToUTC, unit } };
    }
  }
}

function intElement(column: WriteColumn): Pick<SchemaElement, 'type' | 'converted_type' | 'logical_type'> {
  const { bitWidth, signed } = column;
  if (bitWidth === 32 && signed) return { type: 'INT32' };
  const converted = `${signed ? '' : 'U'}INT_${bitWidth}` as 'INT_8' | 'INT_16' | 'UINT_8' | 'UINT_16' | 'UINT_32';
  return { type: 'INT32', converted_type: converted, logical_type: { type: 'INTEGER', bitWidth, isSigned: signed } };
}

function parquetUnit(unit: TimeUnit): 'MILLIS' | 'MICROS' | 'NANOS' {
  if (unit === TimeUnit.MICROSECOND) return 'MICROS';
  if (unit === TimeUnit.NANOSECOND) return 'NANOS';
  return 'MILLIS'; // seconds are written as milliseconds: Parquet has no seconds unit
}

/** The column as the values hyparquet-writer takes for its schema element (it converts unsigned ones itself). */
function columnValues(column: WriteColumn, rows: number): unknown[] {
  const values: unknown[] = new Array(rows);
  // Parquet has no seconds unit: a timestamp in seconds is written in milliseconds.
  const scale = column.kind === 'timestamp' && column.unit === TimeUnit.SECOND ? NANOS_PER_UNIT[TimeUnit.SECOND] / NANOS_PER_UNIT[TimeUnit.MILLISECOND] : 1n;
  for (let i = 0; i < rows; i++) {
    const value = column.at(i);
    if (value === null && !column.nullable) {
      throw new PartitionError('BAD_VALUE', `toParquet: column ${JSON.stringify(column.name)} is not nullable but row ${i} is null`);
    }
    values[i] = column.kind === 'timestamp' && value !== null ? (value as bigint) * scale : value;
  }
  return values;
}
