// Tensorize: gathers rows of vectorized partitions (a `chars` FixedSizeList<Uint8> column and an Int32 `label`
// column) into the trainer's batch arrays, int64 indices [rows, length] and int64 labels, reading the columns'
// buffers directly. Rows are named by (table, row) pairs so one batch can mix partitions.
import { FixedSizeList, type Table } from 'apache-arrow';
import { MlError } from '../errors.js';
import { CHARS_COLUMN, LABEL_COLUMN } from './vectorize.js';

export interface TensorBatch {
  /** int64 [rows, length], row-major. */
  readonly chars: BigInt64Array;
  /** int64 [rows]. */
  readonly labels: BigInt64Array;
  readonly rows: number;
  readonly length: number;
}

/** Random access to one vectorized table's rows across its record batches. */
export class VectorizedRows {
  readonly length: number;
  readonly numRows: number;
  private readonly chunkStarts: number[] = [];
  private readonly charChunks: Uint8Array[] = [];
  private readonly labelChunks: Int32Array[] = [];

  constructor(table: Table) {
    const chars = table.getChild(CHARS_COLUMN);
    const labels = table.getChild(LABEL_COLUMN);
    if (chars === null || !(chars.type instanceof FixedSizeList)) {
      throw new MlError('INVALID_ARGUMENT', `a vectorized partition needs a fixed-size list column '${CHARS_COLUMN}'`);
    }
    if (labels === null) throw new MlError('INVALID_ARGUMENT', `a vectorized partition needs a '${LABEL_COLUMN}' column`);
    this.length = chars.type.listSize;
    this.numRows = table.numRows;
    let start = 0;
    for (const data of chars.data) {
      const child = data.children[0];
      if (child === undefined) throw new MlError('INVALID_ARGUMENT', `'${CHARS_COLUMN}' has no values`);
      this.chunkStarts.push(start);
      // Arrow slices fixed-width buffers and fixed-size-list children along with their Data, so values start at 0.
      this.charChunks.push(child.values as Uint8Array);
      start += data.length;
    }
    let labelStart = 0;
    for (const data of labels.data) {
      if (labelStart !== this.chunkStarts[this.labelChunks.length]) {
        throw new MlError('INVALID_ARGUMENT', 'chars and label columns are chunked differently');
      }
      this.labelChunks.push((data.values as Int32Array).subarray(0, data.length));
      labelStart += data.length;
    }
  }

  /** Copies row `row`'s indices into `out` (int64 as little-endian int32 pairs) and returns its label. */
  copyRow(row: number, out: Int32Array, at: number): number {
    if (!Number.isInteger(row) || row < 0 || row >= this.numRows) {
      throw new MlError('INVALID_ARGUMENT', `row ${row} is outside the partition's ${this.numRows} rows`);
    }
    const chunk = this.chunkOf(row);
    const local = row - (this.chunkStarts[chunk] as number);
    const values = this.charChunks[chunk] as Uint8Array;
    const from = local * this.length;
    for (let i = 0; i < this.length; i++) out[2 * (at + i)] = values[from + i] as number;
    return (this.labelChunks[chunk] as Int32Array)[local] as number;
  }

  private chunkOf(row: number): number {
    let lo = 0;
    let hi = this.chunkStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.chunkStarts[mid] as number) <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * One batch from `picks`, pairs of (table index, row) over `tables`. The high words of the int64 outputs stay
 * zero because indices and labels are non-negative and small.
 */
export function tensorize(tables: readonly VectorizedRows[], picks: Int32Array, from = 0, count = picks.length / 2 - from): TensorBatch {
  const [first] = tables;
  if (first === undefined) throw new MlError('INVALID_ARGUMENT', 'tensorize needs at least one table');
  const { length } = first;
  const chars = new BigInt64Array(count * length);
  const labels = new BigInt64Array(count);
  const charWords = new Int32Array(chars.buffer);
  const labelWords = new Int32Array(labels.buffer);
  for (let r = 0; r < count; r++) {
    const tableIndex = picks[2 * (from + r)] as number;
    const rows = tables[tableIndex];
    if (rows === undefined) throw new MlError('INVALID_ARGUMENT', `pick names table ${tableIndex} of ${tables.length}`);
    if (rows.length !== length) throw new MlError('SHAPE_MISMATCH', `partitions disagree on length (${rows.length} vs ${length})`);
    labelWords[2 * r] = rows.copyRow(picks[2 * (from + r) + 1] as number, charWords, r * length);
  }
  return { chars, labels, rows: count, length };
}
