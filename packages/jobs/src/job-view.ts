// What `jobs ls` and `jobs show` report about a job, read from BullMQ's job hash and log list, and how the CLI
// prints it.
import type { Job } from 'bullmq';
import type { JobProgress } from './job-context.js';
import type { JobData } from './queue-keys.js';

export const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobSummary {
  id: string;
  name: string;
  state: JobState | 'unknown';
  progress: JobProgress | undefined;
  /** Tries started (a stalled try that was taken over counts too) and allowed. */
  attempts: { made: number; max: number };
  createdAt: string;
  /**
   * When a delayed job that has not run yet is due (a submit with a delay, a schedule's next job). Not known for
   * a try waiting out its backoff: BullMQ keeps that time only in its delayed set.
   */
  dueAt: string | undefined;
  /** When its latest try started. */
  startedAt: string | undefined;
  finishedAt: string | undefined;
  /** Why its latest try failed (a job that failed for good, or one waiting to be retried). */
  failedReason: string | undefined;
  /** The job scheduler that made it, for scheduled jobs. */
  schedule: string | undefined;
  /** The job whose id this one's derives from, for a job started by a job (drift-check -> retrain). */
  startedBy: string | undefined;
}

export interface JobDetails extends JobSummary {
  params: unknown;
  timeoutMs: number | undefined;
  result: unknown;
  /** The last try's error, with its stack (the stacks of earlier tries, newest first, after it). */
  error: { reason: string; stack: string[] } | undefined;
  /** Stored log lines, oldest first. */
  log: string[];
  /** Set when a cancel was asked for and the job has not finished yet. */
  cancelRequested: string | undefined;
}

export function jobSummary(job: Job, state: JobState | 'unknown'): JobSummary {
  const data = (job.data ?? {}) as Partial<JobData> & { startedBy?: string };
  return {
    id: job.id ?? '',
    name: job.name,
    state,
    progress: progressOf(job.progress),
    attempts: { made: job.attemptsMade + (state === 'active' ? 1 : 0), max: job.opts.attempts ?? 1 },
    createdAt: new Date(job.timestamp).toISOString(),
    dueAt: state === 'delayed' && job.attemptsMade === 0 && job.delay > 0 ? new Date(job.timestamp + job.delay).toISOString() : undefined,
    startedAt: job.processedOn === undefined ? undefined : new Date(job.processedOn).toISOString(),
    finishedAt: job.finishedOn === undefined ? undefined : new Date(job.finishedOn).toISOString(),
    failedReason: job.failedReason || undefined,
    schedule: job.repeatJobKey ?? undefined,
    startedBy: typeof data.startedBy === 'string' ? data.startedBy : undefined,
  };
}

export function jobDetails(job: Job, state: JobState | 'unknown', log: string[], cancelRequested: string | undefined): JobDetails {
  const data = (job.data ?? {}) as Partial<JobData>;
  return {
    ...jobSummary(job, state),
    params: data.params,
    timeoutMs: data.timeoutMs,
    result: job.returnvalue ?? undefined,
    error: state === 'failed' || job.failedReason ? { reason: job.failedReason ?? '', stack: [...(job.stacktrace ?? [])].reverse() } : undefined,
    log,
    cancelRequested: state === 'completed' || state === 'failed' ? undefined : cancelRequested,
  };
}

function progressOf(progress: unknown): JobProgress | undefined {
  if (typeof progress === 'object' && progress !== null && typeof (progress as JobProgress).fraction === 'number') return progress as JobProgress;
  return undefined;
}

const percent = (progress: JobProgress | undefined): string => (progress === undefined ? '' : `${Math.round(progress.fraction * 100)}%`);

export function summaryTable(jobs: readonly JobSummary[]): string {
  const rows = [['ID', 'NAME', 'STATE', 'PROGRESS', 'TRIES', 'CREATED', 'FROM']];
  for (const job of jobs) {
    rows.push([job.id, job.name, job.state, percent(job.progress), `${job.attempts.made}/${job.attempts.max}`, job.createdAt, job.startedBy ?? (job.schedule ? `schedule ${job.schedule}` : '')]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function detailsText(job: JobDetails): string {
  const lines = [
    `job ${job.id}: ${job.name}`,
    `  state      ${job.state}${job.cancelRequested ? ` (cancel requested: ${job.cancelRequested})` : ''}`,
    `  progress   ${job.progress ? `${percent(job.progress)}${job.progress.message ? ` ${job.progress.message}` : ''}` : '-'}`,
    `  tries      ${job.attempts.made} of ${job.attempts.max}${job.timeoutMs === undefined ? '' : `, ${job.timeoutMs} ms each at most`}`,
    `  params     ${JSON.stringify(job.params)}`,
    `  created    ${job.createdAt}${job.startedAt ? `, started ${job.startedAt}` : ''}${job.finishedAt ? `, finished ${job.finishedAt}` : ''}`,
  ];
  if (job.schedule) lines.push(`  schedule   ${job.schedule}`);
  if (job.startedBy) lines.push(`  started by ${job.startedBy}`);
  if (job.state === 'completed') lines.push(`  result     ${JSON.stringify(job.result)}`);
  if (job.error) {
    lines.push(`  error      ${job.error.reason}`);
    const stack = job.error.stack[0];
    if (stack) lines.push(...stack.split('\n').map((line) => `    ${line}`));
  }
  if (job.log.length > 0) lines.push('  log', ...job.log.map((line) => `    ${line}`));
  return lines.join('\n');
}
