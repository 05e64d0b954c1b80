// Building one contiguous Arrow column (a single Data chunk) from JS values, for readers and row functions
// whose columns must line up chunk for chunk. (vectorFromArray may split a long column into several chunks.)
import { Field, makeBuilder, makeData, RecordBatch, Schema, Struct, Table, type Data, type DataType } from 'apache-arrow';

export function buildColumn(type: DataType, values: Iterable<unknown>): Data {
  const builder = makeBuilder({ type, nullValues: [null, undefined] });
  for (const value of values) builder.append(value);
  return builder.finish().flush();
}

/** A one-batch table from fields and their single-chunk columns. */
export function tableFromColumns(fields: Field[], columns: Data[], length: number, metadata?: Map<string, string>): Table {
  const schema = new Schema(fields, metadata);
  return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children: columns }))]);
}
