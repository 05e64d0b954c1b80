// Page-Hinkley change detection, step for step as river.drift.PageHinkley (river 0.21+, mode "both")
// computes it, so its defaults mean what they mean there:
//   mean_t      = running mean of x_1..x_t
//   up_t        = alpha up_{t-1}   + (x_t - mean_t) - delta      (starts at 0)
//   down_t      = alpha down_{t-1} + (x_t - mean_t) + delta      (starts at 0)
//   alarm when t >= minInstances and (up_t - min_{s<=t} up_s > threshold
//                                     or max_{s<=t} down_s - down_t > threshold)
// The running max of `down` starts at -1, river's initial value. It never shows: the first observation
// (and the first after a reset) is its own running mean, so down_1 = delta >= 0 replaces it at once; a
// start of 0 or -inf gives the same alarms, which is why no test can tell them apart. After an alarm river resets every sum and the mean at
// the next observation; so does this.
//
// Both directions are watched: a model that starts under-forecasting (residuals drift up) and one that
// starts over-forecasting (residuals drift down) both alarm.
import { DRIFT_DEFAULTS, DriftError, requireFiniteSample } from './drift-method.js';

export interface PageHinkleyOptions {
  readonly delta?: number;
  readonly threshold?: number;
  readonly alpha?: number;
  readonly minInstances?: number;
  /**
   * Alarms before this index are warm-up: the detector resets after them as river would, but they are not
   * reported. The default 0 monitors the whole stream.
   */
  readonly monitorFrom?: number;
}

export interface PageHinkleyResult {
  /** The largest test value (max of the upward and downward deviation) seen from `monitorFrom` on. */
  readonly statistic: number;
  /** Index in the stream of the first alarm at or after `monitorFrom`, or -1. */
  readonly alarmIndex: number;
}

export function pageHinkley(stream: Float64Array, options: PageHinkleyOptions = {}): PageHinkleyResult {
  const delta = options.delta ?? DRIFT_DEFAULTS.phDelta;
  const threshold = options.threshold ?? DRIFT_DEFAULTS.phThreshold;
  const alpha = options.alpha ?? DRIFT_DEFAULTS.phAlpha;
  const minInstances = options.minInstances ?? DRIFT_DEFAULTS.phMinInstances;
  const monitorFrom = options.monitorFrom ?? 0;
  if (!(delta >= 0)) throw new DriftError('INVALID_OPTION', `phDelta must be >= 0, got ${delta}`);
  if (!(threshold > 0)) throw new DriftError('INVALID_OPTION', `phThreshold must be > 0, got ${threshold}`);
  if (!(alpha > 0 && alpha <= 1)) throw new DriftError('INVALID_OPTION', `phAlpha must lie in (0, 1], got ${alpha}`);
  if (!Number.isInteger(minInstances) || minInstances < 1) throw new DriftError('INVALID_OPTION', `phMinInstances must be a positive integer, got ${minInstances}`);
  requireFiniteSample(stream, 'residuals');

  let count = 0;
  let mean = 0;
  let up = 0;
  let down = 0;
  let minUp = Infinity;
  let maxDown = -1;
  let statistic = 0;
  for (let t = 0; t < stream.length; t++) {
    const x = stream[t]!;
    count++;
    mean += (1 / count) * (x - mean); // river's stats.Mean, written its way so the two agree bit for bit
    const deviation = x - mean;
    up = alpha * up + deviation - delta;
    down = alpha * down + deviation + delta;
    if (up < minUp) minUp = up;
    if (down > maxDown) maxDown = down;
    if (count < minInstances) continue;
    const test = Math.max(up - minUp, maxDown - down);
    if (t >= monitorFrom && test > statistic) statistic = test;
    if (test <= threshold) continue;
    if (t >= monitorFrom) return { statistic, alarmIndex: t };
    count = 0;
    mean = 0;
    up = 0;
    down = 0;
    minUp = Infinity;
    maxDown = -1;
  }
  return { statistic, alarmIndex: -1 };
}
