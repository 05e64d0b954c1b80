// The typed error of model families. A fit or a score that cannot give a trustworthy answer throws a
// FamilyError with a code, so trainMany can report the slice in `failed` with its reason and go on.
export type FamilyErrorCode =
  /** Fewer values than the family needs (training series, history before a test range, or a seasonal phase). */
  | 'TOO_SHORT'
  /** A NaN or an infinity among the values (families do not impute: fill or drop missing values first). */
  | 'NON_FINITE'
  /** The least-squares problem has no unique solution: a constant series, or lags that are linear combinations. */
  | 'SINGULAR'
  /** An iterative fit ended without a finite optimum. */
  | 'NOT_CONVERGED'
  /** Family parameters or a packed parameter vector outside what the family accepts. */
  | 'INVALID_PARAMS'
  /** The family needs time stamps that were not given (or that are not increasing). */
  | 'BAD_TIMES'
  /** A user-defined family's module could not be imported, or it has no such export. */
  | 'FAMILY_LOAD_FAILED'
  /** A user-defined family does not implement the ModelFamily interface. */
  | 'INVALID_FAMILY';

export class FamilyError extends Error {
  override readonly name = 'FamilyError';
  readonly code: FamilyErrorCode;

  constructor(code: FamilyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isFamilyError(error: unknown, code?: FamilyErrorCode): error is FamilyError {
  return error instanceof FamilyError && (code === undefined || error.code === code);
}
