// A batch's CSV source: one read of the file through @loom/partitions' CSV reader (types inferred from a sample,
// as readCsv does), then the time column and the batch's value columns taken out as Float64Arrays. The reader
// has no column projection, so the whole file is parsed once per batch that reads it.
import { stat } from 'node:fs/promises';
import { DataType, type Table, type Vector } from 'apache-arrow';
import { inferCsvSchema, readCsvBlock } from '@loom/partitions';
import type { BatchSourceSpec } from '../train-many/batch-wire.js';
import { inTimeOrder, toDouble, type Problem, type SourceRead } from './source-data.js';

export async function readCsv(spec: BatchSourceSpec, timeColumn: string): Promise<SourceRead> {
  const path = (spec.source as { file: string }).file;
  let table: Table;
  try {
    const { size } = await stat(path);
    table = await readCsvBlock({ path, start: 0, end: size, index: 0 }, await inferCsvSchema(path));
  } catch (error) {
    return { code: 'SOURCE_FAILED', message: `cannot read ${path} as CSV: ${error instanceof Error ? error.message : String(error)}` };
  }
  const time = table.getChild(timeColumn);
  if (time === null) return { code: 'BAD_TIME_COLUMN', message: `${path} has no time column ${JSON.stringify(timeColumn)}` };
  const timeKind = DataType.isTimestamp(time.type) || DataType.isDate(time.type) ? 'timestamp' : isNumeric(time) ? 'number' : undefined;
  if (timeKind !== spec.rangeKind) {
    const what = timeKind === undefined ? `of type ${String(time.type)}` : timeKind === 'timestamp' ? 'a timestamp' : 'a number';
    return { code: 'BAD_TIME_COLUMN', message: `the time column ${JSON.stringify(timeColumn)} of ${path} is ${what}, but the split's bounds are ${spec.rangeKind === 'timestamp' ? 'timestamps' : 'numbers'}` };
  }
  const valueNames = table.schema.fields.map((field) => field.name).filter((name) => name !== timeColumn);
  const converted = new Map<string, Float64Array>();
  const columns = spec.columns.map((column): Float64Array | Problem => {
    const name = column ?? (valueNames.length === 1 ? valueNames[0] : undefined);
    if (name === undefined) {
      return { code: 'MISSING_COLUMN', message: `${path} has ${valueNames.length} value columns besides ${JSON.stringify(timeColumn)}; the split must name one in its column field` };
    }
    const vector = name === timeColumn ? null : table.getChild(name);
    if (vector === null) return { code: 'MISSING_COLUMN', message: `${path} has no column ${JSON.stringify(name)}` };
    if (!isNumeric(vector)) return { code: 'NOT_NUMERIC', message: `column ${JSON.stringify(name)} of ${path} is not numeric (read as ${String(vector.type)})` };
    let values = converted.get(name);
    if (values === undefined) converted.set(name, (values = doubles(vector)));
    return values;
  });
  return inTimeOrder(doubles(time), columns);
}

function isNumeric(vector: Vector): boolean {
  return DataType.isInt(vector.type) || DataType.isFloat(vector.type);
}

function doubles(vector: Vector): Float64Array {
  const out = new Float64Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = toDouble(vector.get(i));
  return out;
}
