// Population Stability Index of the recent values against the reference (training) values:
//   PSI = sum over bins of (recent% - reference%) * ln(recent% / reference%)
// with the bins cut at the reference's quantiles (deciles by default), the usual construction in credit
// scoring and in the drift tools: every bin holds about a tenth of the training data, so the index weighs
// the whole distribution rather than where the values happen to be dense. The outer bins are open
// (-inf, q1] and (q9, +inf), so recent values beyond the training range land in the end bins.
//
// Ties: a reference with repeated values can give equal quantiles; equal edges are merged, so a series
// with few distinct values gets fewer, non-empty reference bins (a constant reference gets two: at or
// below the constant, and above it).
// Empty bins: a bin with no recent (or, after merging, no reference) values would make the log infinite;
// its proportion is replaced by EMPTY_BIN_PROPORTION = 0.0001, as Evidently fills empty bins, so one
// empty bin adds a large but finite term.
// Whether a PSI is more than sampling noise is psi-critical-value.ts's question; driftStatistic asks both.
import { DRIFT_DEFAULTS, DriftError, requireFiniteSample } from './drift-method.js';

export const EMPTY_BIN_PROPORTION = 0.0001;

export interface PsiOptions {
  /** Quantile bins cut from the reference (default 10). */
  readonly bins?: number;
}

export function populationStabilityIndex(reference: Float64Array, recent: Float64Array, options: PsiOptions = {}): number {
  return binnedPsi(reference, recent, options).statistic;
}

/** The index with the number of bins it was summed over (fewer than asked when ties merged edges). */
export function binnedPsi(reference: Float64Array, recent: Float64Array, options: PsiOptions = {}): { statistic: number; bins: number } {
  const bins = options.bins ?? DRIFT_DEFAULTS.psiBins;
  if (!Number.isInteger(bins) || bins < 2) throw new DriftError('INVALID_OPTION', `psiBins must be an integer >= 2, got ${bins}`);
  requireFiniteSample(reference, 'reference');
  requireFiniteSample(recent, 'recent');
  const sorted = Float64Array.from(reference).sort();
  const edges = quantileEdges(sorted, bins);
  const referenceCounts = binCounts(sorted, edges);
  const recentCounts = binCounts(recent, edges);
  let psi = 0;
  for (let b = 0; b < referenceCounts.length; b++) {
    const expected = proportion(referenceCounts[b]!, reference.length);
    const actual = proportion(recentCounts[b]!, recent.length);
    psi += (actual - expected) * Math.log(actual / expected);
  }
  return { statistic: psi, bins: referenceCounts.length };
}

function proportion(count: number, total: number): number {
  return count === 0 ? EMPTY_BIN_PROPORTION : count / total;
}

/**
 * The inner edges q(1/bins) .. q((bins-1)/bins) of a sorted sample, with numpy's default ('linear')
 * quantile interpolation, equal edges merged.
 */
function quantileEdges(sorted: Float64Array, bins: number): Float64Array {
  const edges: number[] = [];
  const last = sorted.length - 1;
  for (let b = 1; b < bins; b++) {
    const position = (last * b) / bins;
    const below = Math.floor(position);
    const above = Math.min(below + 1, last);
    const edge = sorted[below]! + (position - below) * (sorted[above]! - sorted[below]!);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return Float64Array.from(edges);
}

/** Counts per bin (edges.length + 1 bins); a value goes to the first bin whose upper edge is >= it. */
function binCounts(values: Float64Array, edges: Float64Array): Uint32Array {
  const counts = new Uint32Array(edges.length + 1);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    let low = 0;
    let high = edges.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (edges[middle]! < value) low = middle + 1;
      else high = middle;
    }
    counts[low] = counts[low]! + 1;
  }
  return counts;
}
