// The wire form of one training batch, shared by trainMany (the client) and trainBatch (the task). Both ways it
// is columnar: the client sends one typed array per slice field and the task answers with one typed array per
// result column, so a batch of 10,000 slices is a handful of buffers, never 10,000 objects.
import type { EvaluationBatch } from '../families/evaluate.js';
import type { FamilySpec } from '../families/family-spec.js';
import type { RangeKind } from '../split/range-value.js';

/** Where a batch reads one source from. Connection strings travel to the workers (see the README). */
export type BatchSource =
  | { kind: 'postgres'; database: string; table: string; connection: string }
  | { kind: 'file'; file: string };

export interface BatchSourceSpec {
  source: BatchSource;
  /** Whether the slices' bounds are timestamps (ms since the epoch) or plain numbers. */
  rangeKind: RangeKind;
  /** The distinct value columns this batch's slices of the source read; null: a file's only value column. */
  columns: (string | null)[];
  /** The slices of this source are rows [first, first + count) of the batch. */
  first: number;
  count: number;
}

export interface BatchSpec {
  family: FamilySpec;
  /** The family's key as the client built it; the task checks its own rebuild gives the same. */
  familyKey: string;
  timeColumn: string;
  sources: BatchSourceSpec[];
  /** Per slice: its column, as an index into its source's `columns`. */
  columnOf: Uint32Array;
  /** Per slice: train_from, train_to, test_from, test_to (half-open ranges). */
  ranges: Float64Array;
}

/** Why a slice was not trained: a FamilyError code, or one of the reasons a slice's data could not be read. */
export type SliceFailureCode =
  /** The source has no such value column (or a file has none, or several, where the split names none). */
  | 'MISSING_COLUMN'
  /** The value column holds something other than numbers. */
  | 'NOT_NUMERIC'
  /** The source has no rows in a non-empty train or test range. */
  | 'EMPTY_RANGE'
  /** The source's time column is missing or of the wrong kind for the split's bounds. */
  | 'BAD_TIME_COLUMN'
  /** The source could not be read at all: connection refused, no such table, unreadable file. */
  | 'SOURCE_FAILED'
  /** The family could not fit or score the slice (TOO_SHORT, NON_FINITE, SINGULAR, ... or FIT_FAILED). */
  | (string & {});

/** Counters of one batch's work, summed by trainMany into the run's figures. */
export interface BatchStats {
  /** Queries sent to PostgreSQL (one per table, plus a catalog lookup only when a column is missing). */
  queries: number;
  /** Files scanned (one per file). */
  scans: number;
  /** Rows read from the sources. */
  rows: number;
  /** Milliseconds the task waited for source data (reads overlap fitting, so this is what they did not hide). */
  readMs: number;
  /** Milliseconds spent fitting and scoring. */
  fitMs: number;
}

/**
 * The trained models of a batch as columns: row i is slice i of the batch, in evaluateMany's layout (failed
 * rows hold NaN and zero counts); the failures travel as three parallel arrays instead of objects.
 */
export interface BatchResult extends Omit<EvaluationBatch, 'failures'> {
  /** The failed rows, ascending, with a code and a message each. */
  failedIndex: Uint32Array;
  failedCode: string[];
  failedMessage: string[];
  stats: BatchStats;
}

/** Whether a file source is read as Parquet (by its name); anything else is read as CSV. */
export function isParquetFile(path: string): boolean {
  return /\.(parquet|parq|pq)$/i.test(path);
}

/** trainBatch's module and export: workers import it by reference (see the package's `./tasks` export). */
export const TRAIN_BATCH = { module: '@loom/models/tasks', export: 'trainBatch' } as const;
