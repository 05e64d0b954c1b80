// `seasonal({ period, k, interval, scale })`: a seasonal median baseline with a MAD band, robust for spiky
// metrics. The forecast for phase f is the median of the training values at that phase; the band is
// median +- k * 1.4826 * MAD (1.4826 MAD estimates a standard deviation for normal data), the MAD taken over
// all residuals (value - its phase median; `scale: 'pooled'`, the default: stable, as every value counts) or
// per phase (`scale: 'phase'`: follows a noise level that changes over the cycle, but from only the values
// of one phase; a phase whose MAD is 0 takes the pooled one).
//
// Packed model (2 + 2 period numbers): [anchor, interval, median_0..median_{period-1}, scale_0..scale_{period-1}]
// with scale_f = 1.4826 MAD (the same for every phase when pooled). Phases:
// - fit with time stamps: interval > 0 (the `interval` option, else the median spacing of the training times),
//   anchor = the first training time, and a value at time t has phase round((t - anchor) / interval) mod period,
//   so gaps in the data do not shift phases; predict then needs the test times.
// - fit without: interval = 0, anchor = the phase of the value right after the training series, and the test
//   range is taken to follow the training series directly (test value j has phase (anchor + j) mod period).
import { grown } from './differencing.js';
import { FamilyError } from './errors.js';
import type { FitResult, ModelFamily, PredictOptions, Prediction } from './family.js';
import { predictionBuffers } from './prediction-buffers.js';
import { assertFinite, assertLength, assertModel, integerParam, positiveParam } from './series-checks.js';

/** MAD times this estimates the standard deviation of normally distributed values. */
const MAD_TO_SIGMA = 1.4826;

export interface SeasonalParams {
  /** Values per season (24 for hourly data with a daily cycle), 1..1,000,000. */
  readonly period: number;
  /** Band half-width in robust standard deviations. Default 3. */
  readonly k?: number;
  /** Time between consecutive values, in the unit of the time stamps (default: inferred from the training times). */
  readonly interval?: number;
  /** One MAD over all residuals ('pooled', default) or one per phase ('phase'). */
  readonly scale?: 'pooled' | 'phase';
}

type ResolvedSeasonalParams = SeasonalParams & { readonly k: number; readonly scale: 'pooled' | 'phase' };

export type SeasonalFamily = ModelFamily<ResolvedSeasonalParams>;

export function seasonal(params: SeasonalParams): SeasonalFamily {
  return new SeasonalMedian(params);
}

export class SeasonalMedian implements SeasonalFamily {
  readonly name = 'seasonal';
  readonly params: Readonly<ResolvedSeasonalParams>;
  private phases = new Int32Array(0);
  private counts = new Int32Array(0);
  private grouped = new Float64Array(0);
  private deviations = new Float64Array(0);

  constructor(params: SeasonalParams) {
    const period = integerParam(params?.period, 'period', 'seasonal', 1, 1_000_000);
    const k = positiveParam(params?.k, 'k', 'seasonal', 3);
    const scale = params?.scale ?? 'pooled';
    if (scale !== 'pooled' && scale !== 'phase') throw new FamilyError('INVALID_PARAMS', `seasonal: scale must be 'pooled' or 'phase', got ${String(scale)}`);
    this.params = Object.freeze(params?.interval === undefined ? { period, k, scale } : { period, k, scale, interval: positiveParam(params.interval, 'interval', 'seasonal', 1) });
  }

  key(): string {
    const { period, k, interval, scale } = this.params;
    return `seasonal(period=${period},k=${k}${scale === 'phase' ? ',scale=phase' : ''}${interval === undefined ? '' : `,interval=${interval}`})`;
  }

  paramCount(): number {
    return 2 + 2 * this.params.period;
  }

  paramNames(): readonly string[] {
    const { period } = this.params;
    return ['anchor', 'interval', ...Array.from({ length: period }, (_, f) => `median_${f}`), ...Array.from({ length: period }, (_, f) => `scale_${f}`)];
  }

  /** Two full seasons, so every phase has a median of at least two values. */
  minTrainPoints(): number {
    return 2 * this.params.period;
  }

  historyPoints(): number {
    return 0;
  }

  fit(train: Float64Array, times?: Float64Array): FitResult {
    const { period } = this.params;
    const n = train.length;
    assertFinite(train, 'training');
    assertLength(n, this.minTrainPoints(), 'the training series', this.key());
    const model = new Float64Array(2 + 2 * period);
    this.phases = n > this.phases.length ? new Int32Array(Math.max(n, 2 * this.phases.length)) : this.phases;
    const phases = this.phases;
    if (times === undefined) {
      model[0] = n % period;
      model[1] = 0;
      for (let i = 0; i < n; i++) phases[i] = i % period;
    } else {
      checkTimes(times, n, 'training');
      const interval = this.params.interval ?? this.medianSpacing(times);
      model[0] = times[0]!;
      model[1] = interval;
      for (let i = 0; i < n; i++) phases[i] = phaseAt(times[i]!, model[0], interval, period);
    }

    // Counting sort of the values by phase, then a median and a MAD per phase segment.
    this.counts = period + 1 > this.counts.length ? new Int32Array(period + 1) : this.counts;
    const starts = this.counts.fill(0, 0, period + 1);
    for (let i = 0; i < n; i++) starts[phases[i]! + 1]!++;
    for (let f = 0; f < period; f++) {
      if (starts[f + 1] === 0) throw new FamilyError('TOO_SHORT', `phase ${f} of ${period} has no training values (${this.key()})`);
      starts[f + 1]! += starts[f]!;
    }
    this.grouped = grown(this.grouped, n);
    this.deviations = grown(this.deviations, n);
    const grouped = this.grouped;
    const fill = Int32Array.from(starts.subarray(0, period));
    for (let i = 0; i < n; i++) grouped[fill[phases[i]!]!++] = train[i]!;
    for (let f = 0; f < period; f++) {
      const segment = grouped.subarray(starts[f]!, starts[f + 1]!);
      model[2 + f] = sortedMedian(segment.sort());
    }

    let squares = 0;
    let absolutes = 0;
    const residuals = this.deviations;
    for (let i = 0; i < n; i++) {
      const residual = train[i]! - model[2 + phases[i]!]!;
      squares += residual * residual;
      absolutes += Math.abs(residual);
      residuals[i] = Math.abs(residual);
    }
    const pooled = MAD_TO_SIGMA * sortedMedian(residuals.subarray(0, n).sort());
    model.fill(pooled, 2 + period, 2 + 2 * period);
    if (this.params.scale === 'phase') {
      for (let f = 0; f < period; f++) {
        // `grouped` is sorted within each phase; its absolute deviations from the phase median give the MAD.
        const segment = grouped.subarray(starts[f]!, starts[f + 1]!);
        const deviation = residuals.subarray(starts[f]!, starts[f + 1]!);
        for (let i = 0; i < segment.length; i++) deviation[i] = Math.abs(segment[i]! - model[2 + f]!);
        const scale = MAD_TO_SIGMA * sortedMedian(deviation.sort());
        if (scale > 0) model[2 + period + f] = scale;
      }
    }
    return { params: model, trainPoints: n, trainRmse: Math.sqrt(squares / n), trainMae: absolutes / n };
  }

  predict(model: Float64Array, _history: Float64Array, test: Float64Array, options?: PredictOptions): Prediction {
    const { period, k } = this.params;
    assertModel(model, 2 + 2 * period, this.key());
    const m = test.length;
    const anchor = model[0]!;
    const interval = model[1]!;
    const times = options?.testTimes;
    if (interval > 0) {
      if (times === undefined) throw new FamilyError('BAD_TIMES', `this ${this.key()} model was fit on time stamps, so predict needs the test times`);
      checkTimes(times, m, 'test');
    }
    const out = predictionBuffers(options?.out, m);
    for (let j = 0; j < m; j++) {
      const f = interval > 0 ? phaseAt(times![j]!, anchor, interval, period) : (anchor + j) % period;
      const median = model[2 + f]!;
      const half = k * model[2 + period + f]!;
      out.predicted[j] = median;
      out.lower[j] = median - half;
      out.upper[j] = median + half;
    }
    return out;
  }

  private medianSpacing(times: Float64Array): number {
    const n = times.length;
    this.deviations = grown(this.deviations, n);
    const gaps = this.deviations.subarray(0, n - 1);
    for (let i = 0; i + 1 < n; i++) gaps[i] = times[i + 1]! - times[i]!;
    return sortedMedian(gaps.sort());
  }
}

function phaseAt(time: number, anchor: number, interval: number, period: number): number {
  const step = Math.round((time - anchor) / interval);
  return ((step % period) + period) % period;
}

function checkTimes(times: Float64Array, length: number, what: string): void {
  if (times.length !== length) throw new FamilyError('BAD_TIMES', `${what} has ${length} values but ${times.length} time stamps`);
  assertFinite(times, `${what} time`);
  for (let i = 1; i < length; i++) {
    if (!(times[i]! > times[i - 1]!)) throw new FamilyError('BAD_TIMES', `${what} time stamps must increase: stamp ${i} (${times[i]}) follows ${times[i - 1]}`);
  }
}

function sortedMedian(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
