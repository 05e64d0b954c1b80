// @loom/models: many small models at once. A split spec names one slice of a dataset per row; a model family
// fits and scores one slice over plain typed arrays (inside task threads); the model store keeps many models
// per group in a few Arrow files, versioned and published atomically.
export {};
export * from './families/index.js';
export { readSplit, type ReadSplitOptions } from './split/read-split.js';
export { Split, type SplitSlice, type SliceSource, type SourceGroup, type SplitShape, type TimeRange } from './split/split.js';
export type { Connections } from './split/resolve-sources.js';
export type { RangeKind } from './split/range-value.js';
export { SplitError, isSplitError, type SplitErrorCode, type SplitProblem } from './split/split-error.js';
export { ModelStore, type OpenStoreOptions, type PruneOptions, type PruneResult, type VersionInfo } from './store/model-store.js';
export { ModelGroup } from './store/model-group.js';
export { versionFamilySpecs } from './store/version-families.js';
export { ModelWriter, type CarryOptions, type WriterOptions } from './store/model-writer.js';
export type { ModelColumns, FloatMetric, CountMetric } from './store/model-columns.js';
export type { PublishOptions } from './store/publish-version.js';
export type { FileEntry, VersionManifest } from './store/version-manifest.js';
export type { ModelRecord, StoredModel } from './store/model-record.js';
export { ModelStoreError, isModelStoreError, type ModelStoreErrorCode } from './store/store-error.js';
export { MODELS_USAGE, runModelsCli } from './store/models-cli.js';
export { ProgressReporter, progressLine, type ProgressReporterOptions, type ProgressSink } from './cli/progress-line.js';
export { groupFailures, runSummary, type FailureGroup } from './cli/run-summary.js';
export { trainMany, type TrainClient, type TrainManyOptions, type TrainManyResult } from './train-many/train-many.js';
export type { TrainProgress, MetricsSummary, RunWork } from './train-many/run-tally.js';
export type { SliceFailure } from './train-many/batch-records.js';
export { TrainManyError, isTrainManyError, type TrainManyErrorCode } from './train-many/errors.js';
export { scoreMany, scoreFailures, scoreStats, ScoreFrame, type ScoreManyOptions, type ScoreBatchStats } from './score-many/score-many.js';
export type { ModelRunOptions } from './score-many/model-batches.js';
export { ScoreManyError, isScoreManyError, type ScoreManyErrorCode } from './score-many/errors.js';
export { bandScore } from './tasks/score-table.js';
export * from './drift/index.js';
export { detectDrift, type DetectDriftOptions } from './drift/detect-drift.js';
export { DriftResult, type DriftRow } from './drift/detect-drift-result.js';
export type { DriftRecord, DriftedModel } from './store/drift-results.js';
