// What a job function gets: its id, try number and parameters' job name, a connected Loom client, an abort
// signal (cancel, timeout, runner shutdown), progress and log lines that are stored with the job in Redis, a
// logger whose every line carries the job id, and enqueue() to start other jobs (a job that starts jobs).
import type { Client } from '@loom/client';
import type { Logger } from 'pino';

export interface EnqueueOptions {
  /**
   * The new job's id. A job that enqueues must derive it from its own id (the default does), so that a second
   * run of the enqueuing job (BullMQ delivers at least once) finds the job it started instead of starting another.
   */
  jobId?: string;
  attempts?: number;
  delayMs?: number;
}

export interface JobProgress {
  /** 0..1 */
  fraction: number;
  message?: string;
}

export interface JobContext {
  readonly id: string;
  readonly name: string;
  /** 1 on the first try. */
  readonly attempt: number;
  /** How many tries the job has in all. */
  readonly attempts: number;
  /** A client of the runner's scheduler, connected (reconnected after a scheduler restart) before the job started. */
  readonly client: Client;
  /** Aborted when the job is cancelled, times out, or the runner shuts down; its reason says which. */
  readonly signal: AbortSignal;
  /** The runner's logger with { jobId, job, attempt } on every line. */
  readonly logger: Logger;
  /** Records progress (0..1, with what is going on) on the job; `loom jobs show` prints it. Never throws. */
  progress(fraction: number, message?: string): void;
  /** Appends a line to the job's stored log (and to the runner's log). Never throws. */
  log(line: string): void;
  /** Adds a job (JSON params) to this runner's queue and resolves with its id; by default the id derives from this job's. */
  enqueue(name: string, params: unknown, options?: EnqueueOptions): Promise<string>;
}

/** BullMQ ids may not contain ':' (scheduled jobs' ids do: repeat:ID:MILLIS), so derived ids replace it. */
export function derivedJobId(parentId: string, suffix: string): string {
  return `${parentId.replaceAll(':', '_')}-${suffix}`;
}
