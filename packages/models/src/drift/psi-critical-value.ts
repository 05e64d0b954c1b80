// PSI's null distribution. With B bins and the recent and reference samples drawn from one distribution,
// PSI is asymptotically (1/n + 1/m) chi-square(B - 1) (Yurdakul 2018, "Statistical properties of the
// population stability index"): it is the symmetrized Kullback-Leibler divergence of two histograms, which
// to second order is the two-sample Pearson chi-square scaled by 1/n + 1/m. Its upper alpha quantile says
// how large PSI grows from sampling noise alone, which for tens of recent points is far above 0.1.
//
// The chi-square quantile comes from stdlib (@stdlib/stats-base-dists-chisquare-quantile: the inverse
// regularized incomplete gamma of DiDonato and Morris, as Boost and scipy use), tested against
// scipy.stats.chi2.ppf in test/drift-scipy.test.ts.
import chiSquareQuantile from '@stdlib/stats-base-dists-chisquare-quantile';
import { DriftError } from './drift-method.js';

export interface PsiNullSizes {
  /** Bins the index was summed over (after equal edges were merged). */
  readonly bins: number;
  /** Sizes of the two samples, or their effective sizes under serial correlation. */
  readonly recentSize: number;
  readonly referenceSize: number;
}

/** The PSI that sampling noise alone exceeds with probability alpha: (1/n + 1/m) chi2.ppf(1 - alpha, bins - 1). */
export function psiCriticalValue(sizes: PsiNullSizes, alpha: number): number {
  const { bins, recentSize, referenceSize } = sizes;
  if (!(alpha > 0 && alpha <= 1)) throw new DriftError('INVALID_OPTION', `psiAlpha must lie in (0, 1], got ${alpha}`);
  if (!Number.isInteger(bins) || bins < 1) throw new DriftError('INVALID_OPTION', `bins must be a positive integer, got ${bins}`);
  if (!(recentSize > 0 && referenceSize > 0)) throw new DriftError('INVALID_OPTION', `sample sizes must be positive, got ${recentSize} and ${referenceSize}`);
  // A single bin (a constant reference with nothing above it) leaves no degrees of freedom: PSI is 0.
  if (bins === 1 || alpha === 1) return 0;
  return (1 / recentSize + 1 / referenceSize) * chiSquareQuantile(1 - alpha, bins - 1);
}
