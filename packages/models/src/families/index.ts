// Model families: trainers and scorers over typed arrays, built-in and user-defined.
export { ar, type ArFamily, type ArParams } from './ar.js';
export { arima, type ArimaFamily, type ArimaParams } from './arima.js';
export { seasonal, type SeasonalFamily, type SeasonalParams } from './seasonal.js';
export { lstm, type LstmFamily, type LstmParams } from './lstm/lstm.js';
export type { LstmBatchOptions, LstmFitBatch, LstmTraining } from './lstm/fit-batch.js';
export type { FitResult, ModelFamily, PredictOptions, Prediction } from './family.js';
export { FamilyError, isFamilyError, type FamilyErrorCode } from './errors.js';
export { loadFamily, validateFamily, type FamilyModuleRef } from './load-family.js';
export { familySpec, resolveFamily, type BuiltinFamilySpec, type FamilySpec } from './family-spec.js';
export {
  batchRecord,
  evaluate,
  evaluateMany,
  evaluateManyBatched,
  fitMany,
  fitManyBatched,
  score,
  type EvaluatedModel,
  type EvaluationBatch,
  type FitBatch,
  type ModelMetrics,
  type RowFailure,
  type Scored,
  type Series,
  type Slice,
} from './evaluate.js';
