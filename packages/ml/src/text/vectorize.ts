// Vectorize: the character quantization of Zhang, Zhao & LeCun (2015) as an Arrow-to-Arrow partition function.
// A text column becomes `chars`, a FixedSizeList<Uint8>[length] column of 1-based alphabet indices (0 for
// unknown characters and padding), and a label column becomes `label`, Int32 class indices. No JavaScript
// arrays per row: ASCII rows are encoded straight from the column's UTF-8 bytes.
import {
  Dictionary, Field, FixedSizeList, Int32, makeData, RecordBatch, Schema, Struct, Table, Uint8, Utf8, LargeUtf8, type Data, type Vector,
} from 'apache-arrow';
import { asLoomTable, type ArrowTableLike } from '@loom/protocol';
import { MlError } from '../errors.js';
import { alphabetIndex, type AlphabetIndex } from './alphabet-index.js';
import { splitBucket, type SplitSpec } from './split.js';

export interface VectorizeOptions {
  /** The string column to encode. */
  readonly text: string;
  /** The label column (any type; values are matched to `classes` by their string form). */
  readonly label?: string;
  /** Class names in output order; required with `label`. */
  readonly classes?: readonly string[];
  readonly alphabet: string;
  /** Characters per row: longer texts are truncated, shorter ones padded with 0. */
  readonly length: number;
  readonly lowercase: boolean;
  /** Keep only one side of a deterministic train/test split (by a hash of the text). */
  readonly split?: SplitSpec;
}

export const CHARS_COLUMN = 'chars';
export const LABEL_COLUMN = 'label';
const VECTORIZE_METADATA = 'loom.vectorize';

/** `input` may be a table of any apache-arrow copy: another copy's is read as one of Loom's (its classes differ). */
export function vectorizeText(input: Table | ArrowTableLike, options: VectorizeOptions): Table {
  validateOptions(options);
  const table = asLoomTable(input, 'the table to vectorize');
  if (table === undefined) throw new MlError('INVALID_ARGUMENT', 'vectorizeText needs an Arrow table');
  const index = alphabetIndex(options.alphabet, options.lowercase);
  if (index.size > 255) throw new MlError('INVALID_ARGUMENT', `an alphabet of ${index.size} characters does not fit uint8 indices`);
  const texts = requireColumn(table, options.text);
  if (!isStringType(texts.type) && !(texts.type instanceof Dictionary && isStringType(texts.type.dictionary))) {
    throw new MlError('INVALID_ARGUMENT', `text column '${options.text}' is ${texts.type}, not a string column`);
  }
  const labels = options.label === undefined ? undefined : requireColumn(table, options.label);
  const classIndex = new Map((options.classes ?? []).map((name, i) => [name, i] as const));

  const { length } = options;
  const chars = new Uint8Array(table.numRows * length);
  const labelIds = new Int32Array(table.numRows);
  let kept = 0;
  let row = 0;
  for (const data of texts.data) {
    const rowText = textReader(data);
    for (let i = 0; i < data.length; i++, row++) {
      const text = rowText(i);
      if (options.split !== undefined && !splitBucket(text, options.split)) continue;
      if (labels !== undefined) labelIds[kept] = labelOf(labels, row, classIndex, options);
      encodeRow(text, index, options, chars.subarray(kept * length, (kept + 1) * length));
      kept++;
    }
  }

  const item = new Field('item', new Uint8(), false);
  const charsData = makeData({
    type: new FixedSizeList(length, item),
    length: kept,
    nullCount: 0,
    child: makeData({ type: new Uint8(), length: kept * length, data: chars.subarray(0, kept * length) }),
  });
  const fields: Field[] = [new Field(CHARS_COLUMN, charsData.type, false)];
  const children: Data[] = [charsData];
  if (labels !== undefined) {
    fields.push(new Field(LABEL_COLUMN, new Int32(), false));
    children.push(makeData({ type: new Int32(), length: kept, nullCount: 0, data: labelIds.subarray(0, kept) }));
  }
  const metadata = new Map([[VECTORIZE_METADATA, JSON.stringify({
    alphabet: options.alphabet, length, lowercase: options.lowercase, classes: options.classes ?? null,
  })]]);
  // One record batch built from its Data: the Table-from-columns constructor gives a table of no rows a batch
  // whose schema differs from the table's (and throws), and a partition may keep no rows after the split.
  const schema = new Schema(fields, metadata);
  return new Table(schema, new RecordBatch(schema, makeData({ type: new Struct(fields), length: kept, nullCount: 0, children })));
}

function isStringType(type: unknown): boolean {
  return type instanceof Utf8 || type instanceof LargeUtf8;
}

/** Reads a chunk's rows as UTF-8 bytes (null for a null value, encoded as all padding), without decoding. */
function textReader(data: Data): (i: number) => Uint8Array | null {
  if (data.type instanceof Dictionary) {
    // Dictionary-encoded strings: look the index up in the dictionary's own string chunks.
    const entries: (Uint8Array | null)[] = [];
    for (const chunk of (data.dictionary as Vector).data) {
      const read = textReader(chunk);
      for (let j = 0; j < chunk.length; j++) entries.push(read(j));
    }
    const indices = data.values as ArrayLike<number | bigint>;
    return (i) => (data.nullCount > 0 && !data.getValid(i) ? null : entries[Number(indices[i])] ?? null);
  }
  const offsets = data.valueOffsets as ArrayLike<number | bigint>;
  const values = data.values as Uint8Array;
  return (i) => (data.nullCount > 0 && !data.getValid(i) ? null : values.subarray(Number(offsets[i]), Number(offsets[i + 1])));
}

const decoder = new TextDecoder();

function encodeRow(text: Uint8Array | null, index: AlphabetIndex, options: VectorizeOptions, out: Uint8Array): void {
  if (text === null) return;
  const table = index.byAsciiByte;
  if (table !== undefined) {
    const n = Math.min(text.length, out.length);
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const byte = text[i] as number;
      if (byte >= 0x80) { ascii = false; break; }
      out[i] = table[byte] as number;
    }
    if (ascii) return;
  }
  // Non-ASCII text: one position per code point, as encodeTexts does (lower-casing may change the count).
  const decoded = decoder.decode(text);
  let position = 0;
  for (const char of options.lowercase ? decoded.toLowerCase() : decoded) {
    if (position === out.length) break;
    out[position++] = index.byChar.get(char) ?? 0;
  }
  out.fill(0, position);
}

function labelOf(labels: Vector, row: number, classIndex: ReadonlyMap<string, number>, options: VectorizeOptions): number {
  const value: unknown = labels.get(row);
  if (value === null || value === undefined) {
    throw new MlError('INVALID_ARGUMENT', `row ${row} has no value in label column '${options.label}'`);
  }
  const id = classIndex.get(String(value));
  if (id === undefined) {
    throw new MlError('INVALID_ARGUMENT',
      `row ${row}: label ${JSON.stringify(String(value))} is not one of the classes [${[...classIndex.keys()].map((c) => JSON.stringify(c)).join(', ')}]`);
  }
  return id;
}

function requireColumn(table: Table, name: string): Vector {
  const column = table.getChild(name);
  if (column === null) {
    throw new MlError('INVALID_ARGUMENT', `no column '${name}' (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`);
  }
  return column;
}

function validateOptions(options: VectorizeOptions): void {
  if (!Number.isInteger(options.length) || options.length < 1) {
    throw new MlError('INVALID_ARGUMENT', `length must be a positive integer, got ${options.length}`);
  }
  if (options.label !== undefined && (options.classes === undefined || options.classes.length === 0)) {
    throw new MlError('INVALID_ARGUMENT', 'vectorizing a label column needs the classes');
  }
}
