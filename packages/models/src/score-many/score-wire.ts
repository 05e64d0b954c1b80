// The wire form of a batch that uses stored models (scoreMany's and detectDrift's tasks): the sources and the
// per-slice columns of a training batch (train-many/batch-wire.ts), plus where the models are and the slices'
// ids. The group is named by store directory and a pinned version, so every task of a run uses the same models
// and a worker process reads them once.
import type { FamilySpec } from '../families/family-spec.js';
import type { RangeKind } from '../split/range-value.js';
import type { GroupRef } from '../tasks/shared-group.js';
import type { BatchSourceSpec, BatchStats } from '../train-many/batch-wire.js';

export interface ModelBatchSpec {
  models: GroupRef;
  timeColumn: string;
  sources: BatchSourceSpec[];
  /** Per slice: its column, as an index into its source's `columns`. */
  columnOf: Uint32Array;
  /** Per slice: train_from, train_to, test_from, test_to (half-open ranges), as the split gives them. */
  ranges: Float64Array;
  /** Per slice: its id, which names its model in the group. */
  ids: string[];
  /** Family specs by family key, given by the caller; they take precedence over those the store records. */
  families: Array<[string, FamilySpec]>;
}

export interface ScoreBatchSpec extends ModelBatchSpec {
  /** The kind of the split's bounds, which is the kind of the output's `ts` column. */
  rangeKind: RangeKind;
}

/** What a batch task that reads the group reports about its work, beside the trainMany counters. */
export interface ModelBatchStats extends BatchStats {
  /** Whether this task read the group's files (false: its worker process had them already). */
  groupLoaded: boolean;
  /** The worker process and task thread that ran the task. */
  pid: number;
  thread: number;
}

/** Why a slice was not scored, besides the read failures of trainMany and the families' codes. */
export type ModelFailureCode =
  /** The group's version has no model of this id (never trained, or its training failed). */
  | 'MISSING_MODEL'
  /** The model's family key has no family spec in the store's records nor in the caller's `families`. */
  | 'UNKNOWN_FAMILY';

/** Schema metadata keys of a score partition: its batch's failed slices and counters, as JSON. */
export const SCORE_FAILURES_KEY = 'loom.score.failures';
export const SCORE_STATS_KEY = 'loom.score.stats';

/** scoreBatch's and driftBatch's module and exports: workers import them by reference. */
export const SCORE_BATCH = { module: '@loom/models/tasks', export: 'scoreBatch' } as const;
export const DRIFT_BATCH = { module: '@loom/models/tasks', export: 'driftBatch' } as const;
