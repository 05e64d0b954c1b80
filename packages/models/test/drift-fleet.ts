// Generated fleets with known drift, for the drift-method tests: daily series of a weekly seasonal AR(1)
// around a level (what a metrics fleet looks like), a training span and a recent span, and a known subset
// of series changed at the first recent point in one of three ways. Everything follows from the seed.
// Each series also carries what detectDrift would give page-hinkley: the one-step residuals of a seasonal
// AR(1) fitted to the training span (weekday means plus least-squares phi), over training and recent, and
// the training RMSE.
import { TestRng } from './families-series.js';

export type DriftKind = 'none' | 'level-shift' | 'variance' | 'seasonality';

export interface FleetSeries {
  readonly kind: DriftKind;
  readonly reference: Float64Array;
  readonly recent: Float64Array;
  readonly referenceResiduals: Float64Array;
  readonly residuals: Float64Array;
  readonly residualScale: number;
}

export interface FleetOptions {
  readonly seed: number;
  /** Series per drift kind; the untouched ones come on top. */
  readonly perKind: number;
  readonly untouched: number;
  readonly trainLength: number;
  readonly recentLength: number;
  /** Level shift in units of the training values' standard deviation (the issue's 2 sigma). */
  readonly shiftSigmas?: number;
  /** Factor on the innovations' standard deviation for the variance change (default 2). */
  readonly varianceFactor?: number;
}

const PERIOD = 7;

export function generateFleet(options: FleetOptions): FleetSeries[] {
  const rng = new TestRng(options.seed);
  const kinds: DriftKind[] = [];
  for (const kind of ['level-shift', 'variance', 'seasonality'] as const) for (let i = 0; i < options.perKind; i++) kinds.push(kind);
  for (let i = 0; i < options.untouched; i++) kinds.push('none');
  return kinds.map((kind) => generateSeries(rng, kind, options));
}

function generateSeries(rng: TestRng, kind: DriftKind, options: FleetOptions): FleetSeries {
  const { trainLength, recentLength } = options;
  const length = trainLength + recentLength;
  const phi = rng.between(0.2, 0.8);
  const noise = rng.between(0.5, 5);
  const level = rng.between(-50, 200);
  const amplitude = noise * rng.between(0.5, 3);
  const phase = rng.int(PERIOD);
  // A weekly profile: weekdays high, weekends low, with the series' own amplitude and first weekday.
  const profile = Array.from({ length: PERIOD }, (_, d) => amplitude * Math.cos((2 * Math.PI * (d + phase)) / PERIOD));
  const values = new Float64Array(length);
  let ar = (noise / Math.sqrt(1 - phi * phi)) * rng.normal();
  for (let t = 0; t < length; t++) {
    const changed = t >= trainLength;
    const innovation = noise * rng.normal() * (changed && kind === 'variance' ? (options.varianceFactor ?? 2) : 1);
    ar = phi * ar + innovation;
    // The seasonality change moves the weekly peak by half a week: the same values, on other days.
    const day = changed && kind === 'seasonality' ? (t + 3) % PERIOD : t % PERIOD;
    values[t] = level + profile[day]! + ar;
  }
  const reference = values.slice(0, trainLength);
  if (kind === 'level-shift') {
    const shift = (options.shiftSigmas ?? 2) * standardDeviation(reference) * (rng.chance(0.5) ? 1 : -1);
    for (let t = trainLength; t < length; t++) values[t]! += shift;
  }
  const { residuals, scale } = seasonalArResiduals(values, trainLength);
  return {
    kind,
    reference,
    recent: values.slice(trainLength),
    referenceResiduals: residuals.slice(0, trainLength),
    residuals: residuals.slice(trainLength),
    residualScale: scale,
  };
}

/**
 * One-step residuals of x_t - s_t = phi (x_{t-1} - s_{t-1}) + e_t with s the training weekday means and phi
 * by least squares on the training span; the first residual is taken against the weekday mean alone.
 */
function seasonalArResiduals(values: Float64Array, trainLength: number): { residuals: Float64Array; scale: number } {
  const sums = new Float64Array(PERIOD);
  const counts = new Float64Array(PERIOD);
  for (let t = 0; t < trainLength; t++) {
    sums[t % PERIOD]! += values[t]!;
    counts[t % PERIOD]! += 1;
  }
  const deseasoned = values.map((v, t) => v - sums[t % PERIOD]! / counts[t % PERIOD]!);
  let cross = 0;
  let square = 0;
  for (let t = 1; t < trainLength; t++) {
    cross += deseasoned[t]! * deseasoned[t - 1]!;
    square += deseasoned[t - 1]! * deseasoned[t - 1]!;
  }
  const phi = cross / square;
  const residuals = deseasoned.map((d, t) => (t === 0 ? d : d - phi * deseasoned[t - 1]!));
  let squares = 0;
  for (let t = 0; t < trainLength; t++) squares += residuals[t]! * residuals[t]!;
  return { residuals, scale: Math.sqrt(squares / trainLength) };
}

export function standardDeviation(values: Float64Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return Math.sqrt(squares / (values.length - 1));
}
