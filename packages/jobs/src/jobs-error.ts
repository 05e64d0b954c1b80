// The typed error of @loom/jobs. The codes a job's own failure can carry (BAD_PARAMS, UNKNOWN_JOB, TIMEOUT,
// CANCELLED) are also what `jobs show` prints, since the runner stores the error's name and message with the job.
export type JobsErrorCode =
  /** The Redis URL does not answer (refused, unresolvable, or no reply within the connect timeout). */
  | 'REDIS_UNREACHABLE'
  /** Redis refused the credentials (AUTH), or wants some and none were given. */
  | 'REDIS_AUTH'
  /** Redis may evict keys (maxmemory-policy other than noeviction): BullMQ would lose jobs. */
  | 'EVICTION_POLICY'
  /** No job definition of that name (at submit: no runner serves it; at run: this runner has none). */
  | 'UNKNOWN_JOB'
  /** Parameters that are not JSON, or that the job's validation refused. */
  | 'BAD_PARAMS'
  /** No job or schedule with that id. */
  | 'NOT_FOUND'
  /** The job ran past its timeout (its signal was aborted). */
  | 'TIMEOUT'
  /** The job was cancelled (loom jobs cancel). */
  | 'CANCELLED'
  /** A jobs module that exports no job definitions, or a definition that is not one. */
  | 'BAD_JOBS_MODULE'
  | 'BAD_OPTIONS';

export class JobsError extends Error {
  override readonly name = 'JobsError';
  readonly code: JobsErrorCode;

  constructor(code: JobsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

export function isJobsError(error: unknown, code?: JobsErrorCode): error is JobsError {
  return error instanceof JobsError && (code === undefined || error.code === code);
}
