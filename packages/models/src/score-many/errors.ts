// The typed error of scoreMany and detectDrift. Slices that cannot be scored are not errors (they are listed
// with their reasons); these are the problems that stop a run before or while it runs.
export type ScoreManyErrorCode =
  /** The call's own options are wrong (split, store, group, version, method, ...). */
  | 'BAD_OPTIONS'
  /** A database the split names has no connection string (neither in `connections` nor from readSplit). */
  | 'NO_CONNECTION'
  /** A batch's task failed as a whole (after its retry). */
  | 'BATCH_FAILED'
  /** A batch result that does not answer its batch (a client and workers of different versions). */
  | 'BAD_BATCH';

export class ScoreManyError extends Error {
  override readonly name = 'ScoreManyError';
  readonly code: ScoreManyErrorCode;

  constructor(code: ScoreManyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isScoreManyError(error: unknown, code?: ScoreManyErrorCode): error is ScoreManyError {
  return error instanceof ScoreManyError && (code === undefined || error.code === code);
}
