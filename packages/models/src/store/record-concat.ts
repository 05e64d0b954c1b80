// Runs of rows of decoded store files, written as one record batch column by column: each column's bytes and
// numbers are copied a run at a time, with no call per model. Publishing a version copies whole staged
// batches like this (the row-by-row encoder cost ~0.7 s for 250,000 models, most of publish). Every run's
// file must have the output's layout (same params width, same extra columns); encodeRows handles the rest.
import { Field, FixedSizeList, Float64, List, makeData, Utf8, type Data } from 'apache-arrow';
import { storeFile } from './record-encode.js';
import type { RecordsView, Utf8Column } from './record-view.js';
import type { RecordLayout } from './record-schema.js';

/** Rows [start, end) of one record batch. */
export interface RowRun {
  view: RecordsView;
  start: number;
  end: number;
}

export function sameLayout(a: RecordLayout, b: RecordLayout): boolean {
  return a.paramWidth === b.paramWidth && a.extraKeys.length === b.extraKeys.length && a.extraKeys.every((key, i) => key === b.extraKeys[i]);
}

/** An Arrow IPC file (one record batch) of the runs' rows in order; the same bytes encodeRows writes for them. */
export function encodeRuns(runs: readonly RowRun[], layout: RecordLayout): Uint8Array {
  const n = runs.reduce((sum, run) => sum + run.end - run.start, 0);
  const trainedAt = new BigInt64Array(n);
  const words = new Int32Array(trainedAt.buffer);
  let at = 0;
  for (const { view, start, end } of runs) {
    words.set(view.trainedAtWords.subarray(2 * start, 2 * end), 2 * at);
    at += end - start;
  }
  return storeFile(n, layout, {
    text: (name) => utf8Runs(runs, n, name),
    params: paramsRuns(runs, n, layout.paramWidth),
    floats: (name) => numberRuns(runs, n, (view) => view.floats(name), Float64Array),
    counts: (name) => numberRuns(runs, n, (view) => view.counts(name), Int32Array),
    trainedAt,
  });
}

function numberRuns<T extends Float64Array | Int32Array>(runs: readonly RowRun[], n: number, column: (view: RecordsView) => T, Type: { new (length: number): T }): T {
  const out = new Type(n);
  let at = 0;
  for (const run of runs) {
    out.set(column(run.view).subarray(run.start, run.end), at);
    at += run.end - run.start;
  }
  return out;
}

function paramsRuns(runs: readonly RowRun[], n: number, width: number | undefined): Data {
  const item = new Field<Float64>('item', new Float64(), false);
  const offsets = new Int32Array(n + 1);
  let at = 0;
  for (const { view, start, end } of runs) {
    for (let i = start; i < end; i++, at++) offsets[at + 1] = (offsets[at] as number) + view.paramLength(i);
  }
  const values = new Float64Array(offsets[n] as number);
  at = 0;
  for (const { view, start, end } of runs) {
    values.set(view.paramValues(start, end), offsets[at] as number);
    at += end - start;
  }
  const child = makeData({ type: new Float64(), length: values.length, data: values });
  if (width !== undefined) return makeData({ type: new FixedSizeList<Float64>(width, item), length: n, nullCount: 0, child });
  return makeData({ type: new List<Float64>(item), length: n, nullCount: 0, valueOffsets: offsets, child });
}

/** A Utf8 column over the runs; a run whose file lacks the column (or whose cell is null) gives nulls. */
function utf8Runs(runs: readonly RowRun[], n: number, name: string): Data {
  const columns = runs.map((run) => run.view.text(name));
  const offsets = new Int32Array(n + 1);
  let bytes = 0;
  let at = 0;
  let nulls = 0;
  runs.forEach((run, r) => {
    const column = columns[r];
    for (let i = run.start; i < run.end; i++, at++) {
      const length = column === undefined ? -1 : column.byteLength(i);
      if (length < 0) nulls++;
      else bytes += length;
      offsets[at + 1] = bytes;
    }
  });
  const data = Buffer.allocUnsafe(bytes);
  const validity = nulls === 0 ? undefined : new Uint8Array((n + 7) >> 3);
  at = 0;
  runs.forEach((run, r) => {
    const column = columns[r] as Utf8Column | undefined;
    const length = run.end - run.start;
    if (column !== undefined && length > 0) {
      const runBytes = (offsets[at + length] as number) - (offsets[at] as number);
      // One copy when the run's cells lie back to back (null cells empty), as the store's encoders write them.
      if (column.end(run.end - 1) - column.start(run.start) === runBytes) column.bytes.copy(data, offsets[at] as number, column.start(run.start), column.end(run.end - 1));
      else for (let i = run.start; i < run.end; i++) if (!column.isNull(i)) column.copyTo(i, data, offsets[at + i - run.start] as number);
    }
    if (validity !== undefined && column !== undefined) {
      for (let k = 0; k < length; k++) if (!column.isNull(run.start + k)) validity[(at + k) >> 3] = (validity[(at + k) >> 3] as number) | (1 << ((at + k) & 7));
    }
    at += length;
  });
  const view = new Uint8Array(data.buffer, data.byteOffset, data.length);
  return makeData({ type: new Utf8(), length: n, nullCount: nulls, valueOffsets: offsets, data: view, ...(validity ? { nullBitmap: validity } : {}) });
}
