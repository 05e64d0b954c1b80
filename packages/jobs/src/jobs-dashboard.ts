// The scheduler dashboard's Jobs section (`loom scheduler --jobs-redis URL`): jobs per state, the latest jobs with
// their progress and tries, the schedules with their next run, the latest failures with their reason. Read through
// a JobQueue opened on first view; its connections fail fast while Redis is down and reconnect by themselves, so
// the section shows the outage as an error and the queue again once Redis is back. The URL's password is in no
// message it gives: the dashboard shows and logs those. BullMQ is loaded when the page is first opened, not when
// the scheduler starts (it takes a few hundred ms to load).
import type { DashboardExtension, JobsSectionOptions, SectionContent, SectionFactory, SectionTable, SectionTile, SectionTone } from '@loom/dashboard';
import type { JobQueue, ScheduleInfo } from './job-queue.js';
import { JOB_STATES, type JobState, type JobSummary } from './job-view.js';
import { isJobsError, JobsError } from './jobs-error.js';
import { checkRedisUrl, redactUrl } from './redis-url.js';

/** Jobs listed: every waiting and running one up to the cap, with the latest completed and failed. */
const JOB_ROWS = 200;
const COMPLETED_ROWS = 50;
const FAILURE_ROWS = 20;
const SCHEDULE_ROWS = 200;
/** A dashboard read should say "down" within seconds, not wait out the CLI's 5 s per attempt. */
const CONNECT_TIMEOUT_MS = 3_000;

const LIVE_STATES = JOB_STATES.filter((state) => state !== 'completed' && state !== 'failed');

const STATE_TONES: Record<JobState | 'unknown', SectionTone> = {
  waiting: 'muted',
  active: 'active',
  delayed: 'muted',
  prioritized: 'muted',
  'waiting-children': 'muted',
  completed: 'ok',
  failed: 'bad',
  unknown: 'warn',
};

export const createDashboardSection: SectionFactory<JobsSectionOptions> = (options) => {
  const section = new JobsSection(options);
  return { id: 'jobs', title: 'Jobs', data: () => section.read(), close: () => section.close() } satisfies DashboardExtension;
};

class JobsSection {
  readonly #url: string;
  readonly #queueName: string | undefined;
  #queue: Promise<JobQueue> | undefined;

  constructor(options: JobsSectionOptions) {
    // A malformed URL fails the scheduler's start, where it was given, rather than every page view.
    this.#url = checkRedisUrl(options.redisUrl);
    this.#queueName = options.queue;
  }

  async read(): Promise<SectionContent> {
    const queue = await this.#open();
    try {
      const [counts, live, completed, failed, schedules] = await Promise.all([
        queue.counts(),
        queue.list({ states: LIVE_STATES, limit: JOB_ROWS }),
        queue.list({ states: ['completed'], limit: COMPLETED_ROWS }),
        queue.list({ states: ['failed'], limit: FAILURE_ROWS }),
        queue.schedules(),
      ]);
      return content(queue.name, redactUrl(this.#url), counts, { live, completed, failed }, schedules, Date.now());
    } catch (error) {
      throw this.#safe(error);
    }
  }

  async close(): Promise<void> {
    const opening = this.#queue;
    this.#queue = undefined;
    await (await opening?.catch(() => undefined))?.close();
  }

  /** The queue, opened once; a failed open is forgotten so that the next read tries again. */
  #open(): Promise<JobQueue> {
    this.#queue ??= import('./job-queue.js').then(({ JobQueue }) =>
      JobQueue.open(this.#url, { connectTimeoutMs: CONNECT_TIMEOUT_MS, ...(this.#queueName === undefined ? {} : { queue: this.#queueName }) }));
    return this.#queue.catch((error: unknown) => {
      this.#queue = undefined;
      throw this.#safe(error);
    });
  }

  /** The error with neither the URL nor its password in its message (JobsError messages redact; others may not). */
  #safe(error: unknown): JobsError {
    const password = safeUrl(this.#url)?.password;
    let message = error instanceof Error ? error.message : String(error);
    message = message.split(this.#url).join(redactUrl(this.#url));
    if (password) message = message.split(password).join('***').split(decodeURIComponent(password)).join('***');
    if (isJobsError(error)) return new JobsError(error.code, message);
    // What ioredis says of a command while its connection is down (it reconnects by itself meanwhile).
    if (/Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/.test(message)) {
      return new JobsError('REDIS_UNREACHABLE', `Redis at ${redactUrl(this.#url)} does not answer (${message})`);
    }
    return new JobsError('REDIS_UNREACHABLE', `reading the jobs queue at ${redactUrl(this.#url)}: ${message}`);
  }
}

function safeUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

interface ListedJobs {
  live: JobSummary[];
  completed: JobSummary[];
  failed: JobSummary[];
}

function content(queue: string, where: string, counts: Record<JobState, number>, listed: ListedJobs, schedules: ScheduleInfo[], nowMs: number): SectionContent {
  const total = JOB_STATES.reduce((sum, state) => sum + counts[state], 0);
  const jobs = [...listed.live, ...listed.completed, ...listed.failed].sort(newestFirst).slice(0, JOB_ROWS);
  const failures = [...listed.failed].sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''));
  const tiles: SectionTile[] = [
    ...JOB_STATES.map((state): SectionTile => ({ label: state, value: counts[state], ...toneOfCount(state, counts[state]) })),
    { label: 'schedules', value: schedules.length, sub: nextRun(schedules) },
  ];
  return {
    source: `queue ${queue} on ${where}`,
    tiles,
    tables: [jobsTable(jobs, total, nowMs), schedulesTable(schedules), failuresTable(failures, counts.failed)],
  };
}

function toneOfCount(state: JobState, count: number): Pick<SectionTile, 'tone'> {
  if (count === 0) return { tone: 'muted' };
  if (state === 'failed') return { tone: 'bad' };
  if (state === 'active') return { tone: 'active' };
  return state === 'completed' ? { tone: 'ok' } : {};
}

function nextRun(schedules: readonly ScheduleInfo[]): string {
  const next = schedules.filter((schedule) => schedule.next !== undefined).sort((a, b) => a.next!.localeCompare(b.next!))[0];
  return next === undefined ? '' : `next: ${next.id}`;
}

function newestFirst(a: JobSummary, b: JobSummary): number {
  return b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
}

function jobsTable(jobs: JobSummary[], total: number, nowMs: number): SectionTable {
  return {
    id: 'jobs',
    title: 'Jobs',
    note: 'newest first',
    columns: [
      { key: 'id', label: 'ID', format: 'code' },
      { key: 'name', label: 'Job' },
      { key: 'state', label: 'State', format: 'pill', tones: STATE_TONES },
      { key: 'progress', label: 'Progress', format: 'progress' },
      { key: 'tries', label: 'Tries' },
      { key: 'created', label: 'Created', format: 'time' },
      // A delayed job's start to come: "in 21 h".
      { key: 'started', label: 'Started', format: 'time' },
      { key: 'runMs', label: 'Run time', format: 'duration' },
      { key: 'from', label: 'From' },
    ],
    rows: jobs.map((job) => ({
      id: job.id,
      name: job.name,
      state: job.state,
      // A completed job is done whatever it last reported; the others show what they reported.
      progress: job.state === 'completed' ? { fraction: 1 } : job.progress === undefined ? null : { fraction: job.progress.fraction, ...(job.progress.message === undefined ? {} : { message: job.progress.message }) },
      tries: `${job.attempts.made} / ${job.attempts.max}`,
      created: job.createdAt,
      started: job.state === 'delayed' ? (job.dueAt ?? null) : (job.startedAt ?? null),
      runMs: runTime(job, nowMs),
      from: job.startedBy ?? (job.schedule === undefined ? null : `schedule ${job.schedule}`),
    })),
    omitted: Math.max(0, total - jobs.length),
    empty: 'No jobs in this queue.',
  };
}

function runTime(job: JobSummary, nowMs: number): number | null {
  if (job.startedAt === undefined) return null;
  const started = Date.parse(job.startedAt);
  if (job.finishedAt !== undefined) return Date.parse(job.finishedAt) - started;
  return job.state === 'active' ? nowMs - started : null;
}

function schedulesTable(schedules: ScheduleInfo[]): SectionTable {
  const shown = [...schedules].sort((a, b) => (a.next ?? '~').localeCompare(b.next ?? '~')).slice(0, SCHEDULE_ROWS);
  return {
    id: 'schedules',
    title: 'Schedules',
    note: 'next to run first',
    columns: [
      { key: 'id', label: 'Schedule', format: 'code' },
      { key: 'job', label: 'Job' },
      { key: 'when', label: 'When', format: 'code' },
      { key: 'tz', label: 'Time zone' },
      { key: 'next', label: 'Next run', format: 'time' },
      { key: 'fired', label: 'Jobs made', format: 'number' },
    ],
    rows: shown.map((schedule) => ({
      id: schedule.id,
      job: schedule.job,
      when: schedule.cron ?? `every ${schedule.everyMs} ms`,
      tz: schedule.cron === undefined ? null : (schedule.tz ?? 'UTC'),
      next: schedule.next ?? null,
      fired: schedule.fired,
    })),
    omitted: schedules.length - shown.length,
    empty: 'No schedules (loom jobs schedule add).',
  };
}

function failuresTable(failures: JobSummary[], failedTotal: number): SectionTable {
  return {
    id: 'failures',
    title: 'Recent failures',
    note: 'failed for good, latest first',
    columns: [
      { key: 'id', label: 'ID', format: 'code' },
      { key: 'name', label: 'Job' },
      { key: 'reason', label: 'Reason', wrap: true },
      { key: 'tries', label: 'Tries' },
      { key: 'finished', label: 'Failed', format: 'time' },
    ],
    rows: failures.map((job) => ({
      id: job.id,
      name: job.name,
      reason: job.failedReason ?? null,
      tries: `${job.attempts.made} / ${job.attempts.max}`,
      finished: job.finishedAt ?? null,
    })),
    omitted: Math.max(0, failedTotal - failures.length),
    empty: 'No failed jobs.',
  };
}
