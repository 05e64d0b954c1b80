// One entry point over the three kernels: a method name, a slice's data, the options with the field's
// defaults; an outcome that says what was measured, against what, and the decision for this one series.
import { DRIFT_DEFAULTS, DriftError, type DriftInput, type DriftMethod, type DriftOptions, type DriftOutcome } from './drift-method.js';
import { ksTwoSample } from './ks.js';
import { pageHinkley } from './page-hinkley.js';
import { effectiveSampleSize, lag1Autocorrelation } from './effective-sample-size.js';
import { binnedPsi } from './psi.js';
import { psiCriticalValue } from './psi-critical-value.js';

export function driftStatistic(method: DriftMethod, input: DriftInput, options: DriftOptions = {}): DriftOutcome {
  switch (method) {
    case 'psi':
      return psiOutcome(input, options);
    case 'ks': {
      const threshold = options.ksAlpha ?? DRIFT_DEFAULTS.ksAlpha;
      if (!(threshold > 0 && threshold < 1)) throw new DriftError('INVALID_OPTION', `ksAlpha must lie in (0, 1), got ${threshold}`);
      const { statistic, pValue } = ksTwoSample(input.reference, input.recent);
      return { method, statistic, pValue, threshold, drifted: pValue < threshold };
    }
    case 'page-hinkley':
      return pageHinkleyOutcome(input, options);
    default:
      throw new DriftError('UNKNOWN_METHOD', `unknown drift method ${JSON.stringify(method)}`);
  }
}

/**
 * PSI is drifted when it is both large enough to matter (psiThreshold, a rule of thumb made for
 * populations of thousands) and larger than sampling noise makes it (its critical value at psiAlpha). The
 * noise is (1/n + 1/m) chi-square(bins - 1), about 0.1 already at 90 recent points, and more for persistent
 * series, whose n values are worth fewer independent ones; the reference's lag-1 autocorrelation stands
 * for both samples', since recent is too short to estimate its own and, without drift, shares it.
 */
function psiOutcome(input: DriftInput, options: DriftOptions): DriftOutcome {
  const practical = options.psiThreshold ?? DRIFT_DEFAULTS.psiThreshold;
  const alpha = options.psiAlpha ?? DRIFT_DEFAULTS.psiAlpha;
  const correction = options.psiSerialCorrection ?? DRIFT_DEFAULTS.psiSerialCorrection;
  if (correction !== 'lag1' && correction !== 'none') throw new DriftError('INVALID_OPTION', `psiSerialCorrection must be 'lag1' or 'none', got ${JSON.stringify(correction)}`);
  const { statistic, bins } = binnedPsi(input.reference, input.recent, { bins: options.psiBins ?? DRIFT_DEFAULTS.psiBins });
  const rho = correction === 'lag1' ? lag1Autocorrelation(input.reference) : 0;
  const criticalValue = psiCriticalValue(
    { bins, recentSize: effectiveSampleSize(input.recent.length, rho), referenceSize: effectiveSampleSize(input.reference.length, rho) },
    alpha,
  );
  const drifted = statistic >= practical && statistic > criticalValue;
  return { method: 'psi', statistic, threshold: Math.max(practical, criticalValue), criticalValue, drifted };
}

/**
 * Page-Hinkley's delta and threshold are absolute (river's 50 means 50 units of the input), so residuals
 * are divided by the model's training RMSE first: the threshold then reads "50 residual standard
 * deviations of cumulative excess", the same for a series in bytes and one in percent.
 */
function pageHinkleyOutcome(input: DriftInput, options: DriftOptions): DriftOutcome {
  const { residuals, residualScale, referenceResiduals } = input;
  if (residuals === undefined || residuals.length === 0) throw new DriftError('EMPTY_SAMPLE', 'page-hinkley needs the model residuals over recent');
  if (residualScale === undefined || !(residualScale > 0 && Number.isFinite(residualScale))) {
    throw new DriftError('INVALID_OPTION', `page-hinkley needs a positive finite residualScale (the training RMSE), got ${residualScale}`);
  }
  const wanted = options.phWarmUp ?? residuals.length;
  if (!Number.isInteger(wanted) || wanted < 0) throw new DriftError('INVALID_OPTION', `phWarmUp must be a non-negative integer, got ${wanted}`);
  const warmUpResiduals = referenceResiduals?.subarray(Math.max(0, referenceResiduals.length - wanted));
  const warmUp = warmUpResiduals?.length ?? 0;
  const stream = new Float64Array(warmUp + residuals.length);
  if (warmUpResiduals !== undefined) stream.set(warmUpResiduals);
  stream.set(residuals, warmUp);
  for (let i = 0; i < stream.length; i++) stream[i] = stream[i]! / residualScale;
  const threshold = options.phThreshold ?? DRIFT_DEFAULTS.phThreshold;
  const { statistic, alarmIndex } = pageHinkley(stream, {
    delta: options.phDelta ?? DRIFT_DEFAULTS.phDelta,
    threshold,
    alpha: options.phAlpha ?? DRIFT_DEFAULTS.phAlpha,
    minInstances: options.phMinInstances ?? DRIFT_DEFAULTS.phMinInstances,
    monitorFrom: warmUp,
  });
  const drifted = alarmIndex >= 0;
  return { method: 'page-hinkley', statistic, threshold, drifted, ...(drifted ? { changeIndex: alarmIndex - warmUp } : {}) };
}
