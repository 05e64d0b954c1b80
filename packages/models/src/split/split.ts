// A validated split spec: one slice per row, each naming its source (a database table or a file), the value
// column and numeric train/test ranges. `sources()` groups slices by source, which is how training batches
// reads: one query per (database, table), one scan per file.
import type { RangeKind } from './range-value.js';
import { SplitError } from './split-error.js';

/** A time range on the source's time column, `from` included and `to` excluded: [from, to). */
export interface TimeRange {
  from: number;
  to: number;
}

export type SplitShape = 'database' | 'file';

export type SliceSource =
  | {
      kind: 'database';
      database: string;
      table: string;
      /** The PostgreSQL connection string, when readSplit was given `connections`. */
      connection?: string;
    }
  | {
      kind: 'file';
      /** Absolute path (a relative one in the spec resolves against the split file's directory). */
      file: string;
    };

export interface SplitSlice {
  id: string;
  /** The spec's data row, counted from 1. */
  row: number;
  source: SliceSource;
  /** Equal for slices that read the same source: same database and table, or same file. */
  sourceKey: string;
  /** The value column; for a file row without one, the file's one column besides the time column. */
  column: string | undefined;
  /** Whether the ranges were given as timestamps (then ms since the epoch) or as plain numbers. */
  rangeKind: RangeKind;
  trainRange: TimeRange;
  testRange: TimeRange;
  /** The spec's extra columns for this row (a null cell is left out). */
  extra: Readonly<Record<string, string>>;
}

/** The slices reading one source, in spec order, and the span of time they need from it. */
export interface SourceGroup {
  key: string;
  source: SliceSource;
  slices: readonly SplitSlice[];
  /** From the earliest bound to the latest, over train and test ranges of every slice. */
  span: TimeRange;
}

export interface SplitInit {
  shape: SplitShape;
  timeColumn: string;
  slices: readonly SplitSlice[];
  extraColumns: readonly string[];
  /** Where the spec came from, for messages: a path or 'Arrow table'. */
  origin: string;
}

export class Split {
  readonly shape: SplitShape;
  /** Name of the time column in every source. */
  readonly timeColumn: string;
  readonly slices: readonly SplitSlice[];
  /** The spec's columns beyond the ones it is made of, passed through to the trainer and the store. */
  readonly extraColumns: readonly string[];
  readonly origin: string;
  /** Built on the first lookup: a 250,000-entry map costs readSplit a tenth of a second that training never needs. */
  #byId: Map<string, SplitSlice> | undefined;
  #sources: SourceGroup[] | undefined;

  constructor(init: SplitInit) {
    this.shape = init.shape;
    this.timeColumn = init.timeColumn;
    this.slices = init.slices;
    this.extraColumns = init.extraColumns;
    this.origin = init.origin;
  }

  get #ids(): Map<string, SplitSlice> {
    if (this.#byId === undefined) {
      this.#byId = new Map();
      for (const slice of this.slices) this.#byId.set(slice.id, slice);
    }
    return this.#byId;
  }

  get size(): number {
    return this.slices.length;
  }

  get(id: string): SplitSlice | undefined {
    return this.#ids.get(id);
  }

  /** Slices grouped by source, groups in order of first appearance. */
  sources(): readonly SourceGroup[] {
    this.#sources ??= groupBySource(this.slices);
    return this.#sources;
  }

  /** The split restricted to `ids` (for retraining a subset); an id the split lacks is an error. */
  select(ids: Iterable<string>): Split {
    const wanted = new Set(ids);
    const unknown = [...wanted].filter((id) => !this.#ids.has(id));
    if (unknown.length > 0) {
      throw SplitError.invalid(`${this.origin}: select`, unknown.map((id) => ({ id, column: 'id', message: `no slice with id ${JSON.stringify(id)}` })));
    }
    return new Split({
      shape: this.shape,
      timeColumn: this.timeColumn,
      slices: this.slices.filter((slice) => wanted.has(slice.id)),
      extraColumns: this.extraColumns,
      origin: this.origin,
    });
  }
}

export function spanOf(slices: readonly SplitSlice[]): TimeRange {
  let from = Infinity;
  let to = -Infinity;
  for (const { trainRange, testRange } of slices) {
    from = Math.min(from, trainRange.from, testRange.from);
    to = Math.max(to, trainRange.to, testRange.to);
  }
  return { from, to };
}

function groupBySource(slices: readonly SplitSlice[]): SourceGroup[] {
  const groups = new Map<string, { source: SliceSource; slices: SplitSlice[] }>();
  for (const slice of slices) {
    const group = groups.get(slice.sourceKey);
    if (group) group.slices.push(slice);
    else groups.set(slice.sourceKey, { source: slice.source, slices: [slice] });
  }
  return [...groups].map(([key, { source, slices: members }]) => ({ key, source, slices: members, span: spanOf(members) }));
}
