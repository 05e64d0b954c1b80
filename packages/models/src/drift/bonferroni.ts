// Bonferroni's correction: with `tests` p-values judged together, each is compared with alpha / tests, so
// the chance of one or more false alarms across the whole group stays at most alpha (whatever their
// dependence). alibi-detect's KSDrift corrects its per-feature p-values this way; detectDrift does the same
// across the models of a group, where "tests" is the number of models tested.
import { DriftError } from './drift-method.js';

/** The per-test alpha that keeps the family-wise error rate of `tests` tests at most `alpha`. */
export function bonferroni(alpha: number, tests: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new DriftError('INVALID_OPTION', `alpha must lie in (0, 1), got ${alpha}`);
  if (!Number.isInteger(tests) || tests < 1) throw new DriftError('INVALID_OPTION', `tests must be a positive integer, got ${tests}`);
  return alpha / tests;
}
