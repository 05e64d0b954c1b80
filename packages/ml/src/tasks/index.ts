// @loom/ml/tasks: the functions train() runs on workers, imported there by module reference. This entry point
// loads the engine and Arrow only, not the client library.
export { vectorizePartition, countRows, distinctLabels, mergeLabels } from './table-tasks.js';
export { initialCheckpoint, trainRound, averageRound, roundSummary, STEPS_PER_CALL, type RoundPlan, type RoundResult, type RoundSummary } from './train-round.js';
export { evaluatePartition, sumEvaluations, type Evaluation } from './evaluate.js';
export type { RunSpec } from './run-spec.js';
