// The Arrow type of a flat Parquet column, from its physical type and its logical (or legacy converted) type.
import { Binary, Bool, DateDay, Float32, Float64, Int16, Int32, Int64, Int8, TimestampMillisecond, Uint8, Utf8, type DataType } from 'apache-arrow';
import type { SchemaElement } from 'hyparquet';
import { PartitionError } from './errors.js';

export function parquetArrowType(element: SchemaElement, path: string): DataType {
  const logical = element.logical_type;
  const converted = element.converted_type;
  if (logical?.type === 'TIMESTAMP' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS') return new TimestampMillisecond();
  if (logical?.type === 'DATE' || converted === 'DATE') return new DateDay();
  if (logical?.type === 'DECIMAL' || converted === 'DECIMAL') return new Float64();
  if (logical?.type === 'STRING' || logical?.type === 'JSON' || logical?.type === 'ENUM' || converted === 'UTF8' || converted === 'JSON' || converted === 'ENUM') return new Utf8();
  switch (element.type) {
    case 'BOOLEAN':
      return new Bool();
    case 'INT32':
      if (converted === 'INT_8' || (logical?.type === 'INTEGER' && logical.bitWidth === 8 && logical.isSigned)) return new Int8();
      if (converted === 'UINT_8' || (logical?.type === 'INTEGER' && logical.bitWidth === 8)) return new Uint8();
      if (converted === 'INT_16' || (logical?.type === 'INTEGER' && logical.bitWidth === 16 && logical.isSigned)) return new Int16();
      if (converted === 'UINT_32' || (logical?.type === 'INTEGER' && logical.bitWidth === 32 && !logical.isSigned)) return new Float64();
      return new Int32();
    case 'INT64':
      return new Int64();
    case 'INT96':
      return new TimestampMillisecond();
    case 'FLOAT':
      return new Float32();
    case 'DOUBLE':
      return new Float64();
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY':
      if (logical?.type === 'FLOAT16') return new Float32();
      return new Binary();
    case undefined:
      throw new PartitionError('PARQUET_UNSUPPORTED', `${path}: column ${JSON.stringify(element.name)} has no physical type`);
  }
}
