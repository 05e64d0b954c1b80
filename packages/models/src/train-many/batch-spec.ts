// A planned batch in its wire form: the sources in the order the batch meets them, each with its distinct value
// columns, and per slice a column index and four range bounds in typed arrays. Built when the batch is
// submitted, so the client holds wire specs only for the batches in flight.
import type { FamilySpec } from '../families/family-spec.js';
import type { SplitSlice } from '../split/split.js';
import type { BatchSource, BatchSourceSpec, BatchSpec } from './batch-wire.js';
import type { PlannedBatch } from './plan-batches.js';

export interface SpecContext {
  family: FamilySpec;
  familyKey: string;
  timeColumn: string;
  /** The connection string of a database the split names (resolved before the run starts). */
  connectionOf: (database: string) => string;
}

export function batchSpec(batch: PlannedBatch, context: SpecContext): BatchSpec {
  const { slices } = batch;
  const columnOf = new Uint32Array(slices.length);
  const ranges = new Float64Array(4 * slices.length);
  const sources: BatchSourceSpec[] = [];
  let columns = new Map<string | null, number>();
  slices.forEach((slice, i) => {
    if (i === 0 || slice.sourceKey !== (slices[i - 1] as SplitSlice).sourceKey) {
      columns = new Map();
      sources.push({ source: wireSource(slice, context), rangeKind: slice.rangeKind, columns: [], first: i, count: 0 });
    }
    const source = sources[sources.length - 1] as BatchSourceSpec;
    const column = slice.column ?? null;
    let index = columns.get(column);
    if (index === undefined) {
      index = source.columns.length;
      columns.set(column, index);
      source.columns.push(column);
    }
    source.count++;
    columnOf[i] = index;
    ranges[4 * i] = slice.trainRange.from;
    ranges[4 * i + 1] = slice.trainRange.to;
    ranges[4 * i + 2] = slice.testRange.from;
    ranges[4 * i + 3] = slice.testRange.to;
  });
  return { family: context.family, familyKey: context.familyKey, timeColumn: context.timeColumn, sources, columnOf, ranges };
}

function wireSource(slice: SplitSlice, context: SpecContext): BatchSource {
  const { source } = slice;
  if (source.kind === 'file') return { kind: 'file', file: source.file };
  return { kind: 'postgres', database: source.database, table: source.table, connection: context.connectionOf(source.database) };
}
