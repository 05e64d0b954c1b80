// JobQueue: the producer side of Loom's jobs, what `loom jobs submit/ls/show/cancel/schedule` and user code call.
// It submits jobs by name (checking the name against what runners serve and taking that job's defaults), lists
// and inspects them, asks for cancellation, and manages BullMQ Job Schedulers (cron with a time zone, or every N
// ms). Its Redis connections fail fast (redis-connection.ts): a producer should hear that Redis is down.
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { assertJson, checkBackoff, DEFAULT_ATTEMPTS, DEFAULT_BACKOFF, type AnyJobDefinition, type Backoff, type JobDefaults, type Json } from './define-job.js';
import { JobsError } from './jobs-error.js';
import { jobDetails, jobSummary, JOB_STATES, type JobDetails, type JobState, type JobSummary } from './job-view.js';
import { cancelledKey, DEFAULT_QUEUE, definitionsKey, type JobData } from './queue-keys.js';
import { preflight, producerConnection, type ConnectionSettings } from './redis-connection.js';
import { redactUrl } from './redis-url.js';

/** How often finished() reads a job's state. */
const FINISHED_POLL_MS = 200;

export interface JobQueueOptions extends Omit<ConnectionSettings, 'url'> {
  /** The queue's name (default 'loom'); runners serve one queue each. */
  queue?: string;
}

export interface SubmitOptions extends JobDefaults {
  /** The job's id (default: BullMQ's counter). Submitting an id that exists returns it and adds nothing. */
  jobId?: string;
  /** Start no earlier than this many ms from now. */
  delayMs?: number;
  /** Recorded with the job: the job that started this one. */
  startedBy?: string;
}

export interface ScheduleSpec {
  /** The job to run. */
  job: string;
  /** A cron pattern (5 fields, or 6 with seconds first). */
  cron?: string;
  /** The cron pattern's time zone, e.g. Europe/Paris (default UTC). */
  tz?: string;
  /** Instead of cron: every this many ms. */
  everyMs?: number;
  params?: Json;
  attempts?: number;
  backoff?: Backoff;
  timeoutMs?: number;
}

export interface ScheduleInfo {
  id: string;
  job: string;
  cron: string | undefined;
  tz: string | undefined;
  everyMs: number | undefined;
  /** When it next fires (ISO time). */
  next: string | undefined;
  /** How many jobs it made. */
  fired: number;
  params: unknown;
}

export interface ListOptions {
  /** Only jobs in these states (default all). */
  states?: readonly JobState[];
  /** At most this many, newest first (default 100). */
  limit?: number;
}

/** The outcome of a cancel: removed is never the case; a cancelled job stays visible as failed with CANCELLED. */
export type CancelOutcome = 'cancelling' | 'already-finished';

export class JobQueue {
  readonly name: string;
  readonly url: string;
  readonly #queue: Queue;
  readonly #redis: Redis;
  readonly #settings: ConnectionSettings;

  private constructor(name: string, settings: ConnectionSettings, queue: Queue, redis: Redis) {
    this.name = name;
    this.url = settings.url;
    this.#settings = settings;
    this.#queue = queue;
    this.#redis = redis;
  }

  /** Connects to the queue at `redisUrl`; rejects within seconds with REDIS_UNREACHABLE, REDIS_AUTH or EVICTION_POLICY. */
  static async open(redisUrl: string, options: JobQueueOptions = {}): Promise<JobQueue> {
    const settings: ConnectionSettings = { ...options, url: redisUrl };
    await preflight(settings);
    const name = options.queue ?? DEFAULT_QUEUE;
    const queue = new Queue(name, { connection: producerConnection(settings) });
    const redis = new Redis(settings.url, { ...producerConnection(settings), lazyConnect: true });
    // Errors reach the calls that fail; an 'error' event with no listener would crash the process instead.
    queue.on('error', () => undefined);
    redis.on('error', () => undefined);
    try {
      await Promise.all([queue.waitUntilReady(), redis.connect()]);
    } catch (error) {
      await queue.close().catch(() => undefined);
      redis.disconnect();
      throw new JobsError('REDIS_UNREACHABLE', `lost Redis at ${redactUrl(redisUrl)} while opening the queue: ${(error as Error).message}`, { cause: error });
    }
    return new JobQueue(name, settings, queue, redis);
  }

  /**
   * Adds a job and resolves with its id. `job` is a name (checked against the definitions the queue's runners
   * serve, whose defaults it takes) or a definition (its validation runs here first).
   */
  async submit(job: string | AnyJobDefinition, params: unknown = {}, options: SubmitOptions = {}): Promise<string> {
    assertJson(params, 'params');
    let name: string;
    let defaults: JobDefaults;
    if (typeof job !== 'string') {
      name = job.name;
      try {
        job.validate(params);
      } catch (error) {
        throw new JobsError('BAD_PARAMS', `${name}: ${(error as Error).message}`, { cause: error });
      }
      defaults = job.defaults;
    } else {
      name = job;
      defaults = await this.#registeredDefaults(name);
    }
    if (options.jobId !== undefined && (options.jobId.includes(':') || /^\d+$/.test(options.jobId))) {
      throw new JobsError('BAD_OPTIONS', `job id ${JSON.stringify(options.jobId)}: BullMQ ids may not contain ':' nor be a bare number`);
    }
    const backoff = checkBackoff(options.backoff ?? defaults.backoff ?? DEFAULT_BACKOFF, 'submit');
    const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
    const data: JobData & { startedBy?: string } = {
      params,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(options.startedBy === undefined ? {} : { startedBy: options.startedBy }),
    };
    const added = await this.#queue.add(name, data, {
      attempts: options.attempts ?? defaults.attempts ?? DEFAULT_ATTEMPTS,
      backoff,
      ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
      ...(options.delayMs === undefined ? {} : { delay: options.delayMs }),
    });
    return added.id as string;
  }

  /** Jobs, newest first. */
  async list(options: ListOptions = {}): Promise<JobSummary[]> {
    const states = options.states ?? JOB_STATES;
    const limit = options.limit ?? 100;
    const summaries: JobSummary[] = [];
    for (const state of states) {
      for (const job of await this.#queue.getJobs([state], 0, limit - 1, false)) {
        if (job) summaries.push(jobSummary(job, state));
      }
    }
    summaries.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    return summaries.slice(0, limit);
  }

  /** How many jobs are in each state (BullMQ's counters: one round trip, whatever the queue holds). */
  async counts(): Promise<Record<JobState, number>> {
    const counts = await this.#queue.getJobCounts(...JOB_STATES);
    return Object.fromEntries(JOB_STATES.map((state) => [state, counts[state] ?? 0])) as Record<JobState, number>;
  }

  /** Everything about one job: state, progress, tries, result or error with its stack, log. NOT_FOUND if none. */
  async show(id: string): Promise<JobDetails> {
    const job = await this.#job(id);
    const [state, logs, cancelled] = await Promise.all([job.getState(), this.#queue.getJobLogs(id, 0, -1, true), this.#redis.hget(cancelledKey(this.name), id)]);
    return jobDetails(job, state as JobState | 'unknown', logs.logs, cancelled ?? undefined);
  }

  /**
   * Asks for the job to be cancelled. A waiting or delayed job fails with CANCELLED as soon as a runner takes it
   * (a delayed one is promoted so that it does not wait for its time); a running one has its signal aborted
   * within a second and fails with CANCELLED, without retries. A finished job is left as it is.
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<CancelOutcome> {
    const job = await this.#job(id);
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return 'already-finished';
    await this.#redis.hset(cancelledKey(this.name), id, reason);
    if (state === 'delayed') await job.promote().catch(() => undefined); // it may have just become waiting
    return 'cancelling';
  }

  /**
   * Runs a finished (completed or failed) job again under its id, as a redelivery would: an idempotent job
   * returns what its first run made. Returns the state the job was in.
   */
  async retry(id: string): Promise<'completed' | 'failed'> {
    const job = await this.#job(id);
    const state = await job.getState();
    if (state !== 'completed' && state !== 'failed') throw new JobsError('BAD_OPTIONS', `job ${id} is ${state}: only a completed or failed job can be run again`);
    await job.retry(state);
    return state;
  }

  /**
   * Resolves with the job's details once it completed or failed for good (rejects after `timeoutMs`). It polls the
   * job's state rather than waiting on QueueEvents: waiting on QueueEvents missed a finish now and then (about
   * one run of the jobs tests in five waited to its timeout, on a job the runner had finished), presumably one
   * landing between waitUntilFinished's own state check and the reader's first XREAD. A state read every 200 ms
   * costs Redis next to nothing and cannot miss a finish.
   */
  async finished(id: string, timeoutMs = 3_600_000): Promise<JobDetails> {
    await this.#job(id); // NOT_FOUND for an unknown id
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.#queue.getJobState(id);
      if (state === 'completed' || state === 'failed') return this.show(id);
      const left = deadline - Date.now();
      if (left <= 0) throw new JobsError('TIMEOUT', `job ${id} did not finish within ${timeoutMs} ms (it is ${state})`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(FINISHED_POLL_MS, left)));
    }
  }

  /** Creates or replaces the schedule `id` (a BullMQ Job Scheduler); its first job is added delayed to its time. */
  async schedule(id: string, spec: ScheduleSpec): Promise<ScheduleInfo> {
    if (typeof id !== 'string' || id === '' || id.includes(':')) throw new JobsError('BAD_OPTIONS', `schedule id ${JSON.stringify(id)} must be non-empty text without ':'`);
    if ((spec.cron === undefined) === (spec.everyMs === undefined)) throw new JobsError('BAD_OPTIONS', `schedule ${id}: give a cron pattern or everyMs, one of them`);
    if (spec.tz !== undefined && spec.cron === undefined) throw new JobsError('BAD_OPTIONS', `schedule ${id}: a time zone goes with a cron pattern`);
    if (spec.tz !== undefined) checkTimeZone(spec.tz);
    const params = spec.params ?? {};
    assertJson(params, 'params');
    const defaults = await this.#registeredDefaults(spec.job);
    const timeoutMs = spec.timeoutMs ?? defaults.timeoutMs;
    try {
      await this.#queue.upsertJobScheduler(
        id,
        spec.cron === undefined ? { every: spec.everyMs as number } : { pattern: spec.cron, ...(spec.tz === undefined ? {} : { tz: spec.tz }) },
        {
          name: spec.job,
          data: { params, ...(timeoutMs === undefined ? {} : { timeoutMs }) } satisfies JobData,
          opts: { attempts: spec.attempts ?? defaults.attempts ?? DEFAULT_ATTEMPTS, backoff: checkBackoff(spec.backoff ?? defaults.backoff ?? DEFAULT_BACKOFF, `schedule ${id}`) },
        },
      );
    } catch (error) {
      // cron-parser's complaint about a pattern, or BullMQ's about the options.
      throw new JobsError('BAD_OPTIONS', `schedule ${id}: ${(error as Error).message}`, { cause: error });
    }
    const info = (await this.schedules()).find((schedule) => schedule.id === id);
    if (info === undefined) throw new JobsError('NOT_FOUND', `schedule ${id} vanished right after it was made (removed concurrently?)`);
    return info;
  }

  async schedules(): Promise<ScheduleInfo[]> {
    const schedulers = await this.#queue.getJobSchedulers(0, -1, true);
    return schedulers.map((s) => ({
      id: s.key,
      job: s.name,
      cron: s.pattern ?? undefined,
      tz: s.tz ?? undefined,
      everyMs: s.every === undefined || s.every === null ? undefined : Number(s.every),
      next: s.next === undefined ? undefined : new Date(Number(s.next)).toISOString(),
      fired: Number(s.iterationCount ?? 0),
      params: (s.template?.data as JobData | undefined)?.params,
    }));
  }

  /** Removes a schedule; its pending (delayed) job goes with it. NOT_FOUND if there is none. */
  async unschedule(id: string): Promise<void> {
    if (!(await this.#queue.removeJobScheduler(id))) throw new JobsError('NOT_FOUND', `no schedule ${JSON.stringify(id)} on queue ${this.name}`);
  }

  /** Job names the queue's runners serve (as they registered them). */
  async registeredJobs(): Promise<string[]> {
    return (await this.#redis.hkeys(definitionsKey(this.name))).sort();
  }

  /** @internal The runner's side: records the definitions it serves, so submits by name know them. */
  async registerDefinitions(definitions: readonly AnyJobDefinition[]): Promise<void> {
    if (definitions.length === 0) return;
    await this.#redis.hset(definitionsKey(this.name), Object.fromEntries(definitions.map((d) => [d.name, JSON.stringify(d.defaults)])));
  }

  /** @internal The cancellations asked for among `ids`: id -> reason. */
  async cancelRequests(ids: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (ids.length === 0) return found;
    const reasons = await this.#redis.hmget(cancelledKey(this.name), ...ids);
    ids.forEach((id, i) => {
      const reason = reasons[i];
      if (typeof reason === 'string') found.set(id, reason);
    });
    return found;
  }

  /** @internal Forgets a cancellation once its job failed with CANCELLED. */
  async clearCancelRequest(id: string): Promise<void> {
    await this.#redis.hdel(cancelledKey(this.name), id);
  }

  async close(): Promise<void> {
    await this.#queue.close();
    this.#redis.disconnect();
  }

  async #job(id: string): Promise<Job> {
    const job = await this.#queue.getJob(id);
    if (job === undefined || job === null) throw new JobsError('NOT_FOUND', `no job ${JSON.stringify(id)} on queue ${this.name}`);
    return job;
  }

  /** The defaults runners registered for `name`; UNKNOWN_JOB when runners registered others but not it. */
  async #registeredDefaults(name: string): Promise<JobDefaults> {
    const registered = await this.#redis.hgetall(definitionsKey(this.name));
    const names = Object.keys(registered).sort();
    const entry = registered[name];
    if (entry === undefined) {
      if (names.length === 0) return {};
      throw new JobsError('UNKNOWN_JOB', `no runner of queue ${this.name} serves a job named ${JSON.stringify(name)} (they serve ${names.join(', ')})`);
    }
    return JSON.parse(entry) as JobDefaults;
  }
}

function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new JobsError('BAD_OPTIONS', `unknown time zone ${JSON.stringify(tz)} (an IANA name such as Europe/Paris or America/New_York)`);
  }
}
