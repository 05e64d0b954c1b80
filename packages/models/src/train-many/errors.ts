// The typed error of trainMany. Slices that cannot be trained are not errors (they are listed in the run's
// `failed`); these are the problems that stop a run: options, connections, and batches whose task failed.
export type TrainManyErrorCode =
  /** trainMany's own options are wrong (family, group, window, batch size, ...). */
  | 'BAD_OPTIONS'
  /** A database the split names has no connection string (neither in `connections` nor from readSplit). */
  | 'NO_CONNECTION'
  /** A batch's task failed (after its retries): the run stops, what was staged stays, a re-run resumes. */
  | 'BATCH_FAILED'
  /** A batch spec or result that does not fit together (a client and workers of different versions). */
  | 'BAD_BATCH'
  /** Every slice failed: there is nothing to publish (the group's current version is left as it was). */
  | 'NOTHING_TRAINED';

export class TrainManyError extends Error {
  override readonly name = 'TrainManyError';
  readonly code: TrainManyErrorCode;

  constructor(code: TrainManyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isTrainManyError(error: unknown, code?: TrainManyErrorCode): error is TrainManyError {
  return error instanceof TrainManyError && (code === undefined || error.code === code);
}
