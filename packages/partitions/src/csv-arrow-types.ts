// The Arrow type each CSV column type becomes.
import { Bool, Float64, Int32, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';
import type { CsvType } from './csv-types.js';

export function arrowTypeOf(type: CsvType): DataType {
  switch (type) {
    case 'int32':
      return new Int32();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'utf8':
      return new Utf8();
    case 'timestamp':
      return new TimestampMillisecond();
  }
}
