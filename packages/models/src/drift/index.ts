// Drift statistics over plain typed arrays: PSI on the value distribution, two-sample Kolmogorov-Smirnov
// (p-values as scipy.stats.ks_2samp computes them) and Page-Hinkley on the model's residuals (river's
// algorithm), behind one entry point that detectDrift calls per slice inside its task threads.
export {
  DRIFT_DEFAULTS,
  DRIFT_METHODS,
  DriftError,
  isDriftError,
  type DriftErrorCode,
  type DriftInput,
  type DriftMethod,
  type DriftOptions,
  type DriftOutcome,
  type PsiSerialCorrection,
} from './drift-method.js';
export { bonferroni } from './bonferroni.js';
export { driftStatistic } from './drift-statistic.js';
export { binnedPsi, populationStabilityIndex, type PsiOptions } from './psi.js';
export { psiCriticalValue, type PsiNullSizes } from './psi-critical-value.js';
export { effectiveSampleSize, lag1Autocorrelation } from './effective-sample-size.js';
export { ksTwoSample, type KsResult } from './ks.js';
export { pageHinkley, type PageHinkleyOptions, type PageHinkleyResult } from './page-hinkley.js';
