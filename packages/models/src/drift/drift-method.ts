// The shared vocabulary of the drift kernels: which method, what it is given, what it answers. The kernels
// are pure and synchronous over Float64Array (no I/O), so detectDrift can run them inside task threads, one
// slice at a time, and the client can apply the group-wide correction (Bonferroni for ks) afterwards.

export type DriftMethod = 'psi' | 'ks' | 'page-hinkley';

export const DRIFT_METHODS: readonly DriftMethod[] = ['psi', 'ks', 'page-hinkley'];

export interface DriftOutcome {
  readonly method: DriftMethod;
  /** PSI value, KS D statistic, or Page-Hinkley's largest cumulative deviation (in residual-scale units). */
  readonly statistic: number;
  /** ks only: the two-sample p-value, before any multiple-testing correction. */
  readonly pValue?: number;
  /**
   * What `statistic` (for ks: `pValue`) is compared with. For psi: the larger of `psiThreshold` and
   * `criticalValue`, since PSI must exceed both.
   */
  readonly threshold: number;
  /** The decision for this one series (for ks: p-value below the *uncorrected* `ksAlpha`). */
  readonly drifted: boolean;
  /**
   * psi only: the PSI that sampling noise alone exceeds with probability `psiAlpha`, from PSI's asymptotic
   * (1/n + 1/m) chi-square(bins - 1) null at the samples' effective sizes (0 with `psiAlpha` 1).
   */
  readonly criticalValue?: number;
  /** page-hinkley only: the index in `recent` (and `residuals`) at which the alarm first fired. */
  readonly changeIndex?: number;
}

export interface DriftInput {
  /** The slice's training values. */
  readonly reference: Float64Array;
  /** Its new values. */
  readonly recent: Float64Array;
  /** One-step-ahead residuals (actual - forecast) of the model over `recent`; page-hinkley needs them. */
  readonly residuals?: Float64Array;
  /** The model's training RMSE, which standardizes the residuals for page-hinkley. */
  readonly residualScale?: number;
  /**
   * page-hinkley: the model's in-sample residuals over (the tail of) `reference`. Their last `phWarmUp` run
   * through the detector first, as if it had been watching before `recent` began, so it knows the in-control
   * mean; without them it learns the mean from `recent` alone and a shift already present at the first
   * recent value goes unseen (recall 0 on the generated fleets).
   */
  readonly referenceResiduals?: Float64Array;
}

export interface DriftOptions {
  /** PSI: number of quantile bins cut from the reference (default 10). */
  readonly psiBins?: number;
  /** PSI: the practical threshold; drift needs the index to reach it (default 0.1, Evidently's). */
  readonly psiThreshold?: number;
  /**
   * PSI: significance level; drift also needs the index above its critical value, the PSI that sampling
   * noise alone exceeds with this probability (default 0.01, so at most about 1 % of unchanged series are
   * flagged). 1 turns the test off: the decision is then `psiThreshold` alone, as Evidently decides.
   */
  readonly psiAlpha?: number;
  /**
   * PSI: how the critical value allows for serial correlation. 'lag1' (default) shrinks both sample sizes
   * to n (1 - rho) / (1 + rho), rho the reference's lag-1 autocorrelation; 'none' treats the values as
   * independent (right for cross-sectional data, over-flagging for persistent series).
   */
  readonly psiSerialCorrection?: PsiSerialCorrection;
  /** ks: drift when the p-value is below this (default 0.05, before correction). */
  readonly ksAlpha?: number;
  /** Page-Hinkley: magnitude of changes tolerated, in residual-scale units (default 0.005). */
  readonly phDelta?: number;
  /** Page-Hinkley: alarm threshold on the cumulative deviation, in residual-scale units (default 50). */
  readonly phThreshold?: number;
  /** Page-Hinkley: forgetting factor of the cumulative sums (default 1 - 0.0001). */
  readonly phAlpha?: number;
  /** Page-Hinkley: observations seen before an alarm may fire (default 30). */
  readonly phMinInstances?: number;
  /**
   * Page-Hinkley: how many of the last `referenceResiduals` run through the detector before `residuals`
   * (default: as many as there are recent residuals). Bounded because the detector's sums wander like a
   * random walk: warmed up on a whole two-year training span it raised false alarms on 5.9 % of untouched
   * series, on a span as long as the recent one on none (see the README's Drift section).
   */
  readonly phWarmUp?: number;
}

export type PsiSerialCorrection = 'lag1' | 'none';

export const DRIFT_DEFAULTS = {
  psiBins: 10,
  psiThreshold: 0.1,
  psiAlpha: 0.01,
  psiSerialCorrection: 'lag1' as PsiSerialCorrection,
  ksAlpha: 0.05,
  phDelta: 0.005,
  phThreshold: 50,
  phAlpha: 1 - 0.0001,
  phMinInstances: 30,
} as const satisfies Required<Omit<DriftOptions, 'phWarmUp'>>;

export type DriftErrorCode =
  /** A sample the method needs is empty (or, for page-hinkley, residuals or their scale are missing). */
  | 'EMPTY_SAMPLE'
  /** A NaN or an infinity among the values: fill or drop missing values first. */
  | 'NON_FINITE'
  /** An option outside what the method accepts (a non-positive bin count, an alpha outside (0, 1), ...). */
  | 'INVALID_OPTION'
  /** A method name that is not one of DRIFT_METHODS. */
  | 'UNKNOWN_METHOD';

export class DriftError extends Error {
  override readonly name = 'DriftError';
  readonly code: DriftErrorCode;

  constructor(code: DriftErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export function isDriftError(error: unknown, code?: DriftErrorCode): error is DriftError {
  return error instanceof DriftError && (code === undefined || error.code === code);
}

/** Checks a sample is non-empty and finite, so every kernel fails the same way on bad data. */
export function requireFiniteSample(values: Float64Array, what: string): void {
  if (values.length === 0) throw new DriftError('EMPTY_SAMPLE', `${what} is empty`);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new DriftError('NON_FINITE', `${what}[${i}] is ${values[i]}`);
  }
}
