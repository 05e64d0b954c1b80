// JobRunner: serves one queue's jobs with a BullMQ Worker. Each job gets a context (job-context.ts) with a client
// of the runner's Loom scheduler (reconnected with backoff after the scheduler was lost), an abort signal, stored
// progress and log lines, and enqueue(). BullMQ delivers at least once: a runner that dies mid-job loses its
// lock, and after the stalled check another runner (or this one, restarted) runs the job again from the start,
// which is why every job must be idempotent. Cancels are read from Redis every `cancelPollMs`, so none is missed
// while a runner reconnects. close() lets running jobs finish for `graceMs`, then leaves them to the stalled check.
import { ReconnectingClient, type ConnectOptions } from '@loom/client';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { assertJson, type AnyJobDefinition } from './define-job.js';
import { derivedJobId, type EnqueueOptions, type JobContext } from './job-context.js';
import { jobsLogger } from './job-logger.js';
import { JobQueue } from './job-queue.js';
import { isJobsError, JobsError, type JobsErrorCode } from './jobs-error.js';
import type { JobData } from './queue-keys.js';
import { workerConnection, type ConnectionSettings } from './redis-connection.js';
import { redactUrl } from './redis-url.js';

export interface JobRunnerOptions extends Omit<ConnectionSettings, 'url'> {
  redisUrl: string;
  /** The Loom scheduler's host:port. */
  scheduler: string;
  jobs: readonly AnyJobDefinition[];
  queue?: string;
  /** Jobs run at once (default 1: a Loom job mostly waits on the cluster, which has its own parallelism). */
  concurrency?: number;
  /** Scheduler connection options (token, TLS). */
  client?: ConnectOptions;
  /**
   * How long a runner's lock on a job lasts without renewal (default 30 s, BullMQ's). A runner that died is
   * noticed after about this long plus `stalledIntervalMs`; tests shorten both.
   */
  lockDurationMs?: number;
  /** How often runners look for jobs whose runner died (default 30 s, BullMQ's). */
  stalledIntervalMs?: number;
  /** Times a job may be taken over from a dead runner before it fails (default 2). */
  maxStalledCount?: number;
  /** How often running jobs are checked for a cancel (default 1 s). */
  cancelPollMs?: number;
  /** Shown in BullMQ as the runner that processed a job. */
  name?: string;
  logger?: Logger;
}

interface Running {
  controller: AbortController;
}

/** Why a job's signal was aborted; a JobsError with the matching code becomes the try's error. */
type AbortReason = { code: Extract<JobsErrorCode, 'CANCELLED' | 'TIMEOUT'>; message: string };

export class JobRunner {
  readonly queue: string;
  readonly #worker: Worker;
  readonly #producer: JobQueue;
  readonly #connection: ReconnectingClient;
  readonly #definitions: Map<string, AnyJobDefinition>;
  readonly #running = new Map<string, Running>();
  readonly #log: Logger;
  readonly #cancelPoll: NodeJS.Timeout;
  #closing: Promise<void> | undefined;

  private constructor(options: JobRunnerOptions, producer: JobQueue, log: Logger) {
    this.queue = producer.name;
    this.#producer = producer;
    this.#log = log;
    this.#definitions = new Map(options.jobs.map((job) => [job.name, job]));
    this.#connection = new ReconnectingClient(options.scheduler, { name: options.name ?? `jobs-runner-${process.pid}`, ...options.client });
    const settings: ConnectionSettings = { ...options, url: options.redisUrl };
    this.#worker = new Worker(this.queue, (job, _token, signal) => this.#process(job, signal), {
      connection: workerConnection(settings),
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 2,
      ...(options.name === undefined ? {} : { name: options.name }),
      autorun: false,
    });
    this.#worker.on('error', (error) => this.#log.warn({ err: error.message }, 'Redis connection error (BullMQ reconnects by itself)'));
    this.#worker.on('stalled', (jobId) => this.#log.warn({ jobId }, 'a job whose runner stopped answering goes back to the queue'));
    this.#worker.on('completed', (job) => this.#log.info({ jobId: job.id, job: job.name }, 'job completed'));
    this.#worker.on('failed', (job, error) => {
      const final = job !== undefined && (job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError);
      this.#log[final ? 'error' : 'warn']({ jobId: job?.id, job: job?.name, attempt: job?.attemptsMade, err: error.message }, final ? 'job failed for good' : 'job try failed; it will be retried');
    });
    this.#cancelPoll = setInterval(() => void this.#pollCancels(), options.cancelPollMs ?? 1_000);
    this.#cancelPoll.unref();
  }

  /** Checks Redis (REDIS_UNREACHABLE, REDIS_AUTH, EVICTION_POLICY within seconds), registers the jobs, starts serving. */
  static async start(options: JobRunnerOptions): Promise<JobRunner> {
    if (options.jobs.length === 0) throw new JobsError('BAD_JOBS_MODULE', 'a runner needs at least one job definition');
    const names = new Set<string>();
    for (const job of options.jobs) {
      if (names.has(job.name)) throw new JobsError('BAD_JOBS_MODULE', `two job definitions are named ${JSON.stringify(job.name)}`);
      names.add(job.name);
    }
    const producer = await JobQueue.open(options.redisUrl, options);
    const log = (options.logger ?? jobsLogger('runner')).child({ queue: producer.name });
    let runner: JobRunner;
    try {
      await producer.registerDefinitions(options.jobs);
      runner = new JobRunner(options, producer, log);
      await runner.#worker.waitUntilReady();
    } catch (error) {
      await producer.close();
      throw error;
    }
    void runner.#worker.run().catch((error: unknown) => log.error({ err: (error as Error).message }, 'the BullMQ worker stopped'));
    log.info({ redis: redactUrl(options.redisUrl), scheduler: options.scheduler, jobs: [...names] }, 'jobs runner started');
    return runner;
  }

  /** Ids of the jobs running here now. */
  get running(): string[] {
    return [...this.#running.keys()];
  }

  /** Stops taking jobs, waits up to `graceMs` for running ones, then leaves those to another runner. Idempotent. */
  close(graceMs = 30_000): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#cancelPoll);
      let timer: NodeJS.Timeout | undefined;
      const graceful = this.#worker.close();
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      if ((await Promise.race([graceful.then(() => 'closed' as const), timedOut])) === 'timeout') {
        this.#log.warn({ jobIds: this.running }, 'jobs still running at shutdown: another runner takes them over after the stalled check');
        await this.#worker.close(true);
      }
      clearTimeout(timer);
      await graceful.catch(() => undefined);
      await this.#connection.close();
      await this.#producer.close();
      this.#log.info('jobs runner closed');
    })();
    return this.#closing;
  }

  async #process(job: Job, bullSignal: AbortSignal | undefined): Promise<unknown> {
    const id = job.id as string;
    const attempt = job.attemptsMade + 1;
    const log = this.#log.child({ jobId: id, job: job.name, attempt });
    const definition = this.#definitions.get(job.name);
    if (definition === undefined) {
      throw failure('UNKNOWN_JOB', `this runner serves no job named ${JSON.stringify(job.name)} (it serves ${[...this.#definitions.keys()].join(', ')})`);
    }
    const data = (job.data ?? {}) as Partial<JobData>;
    const cancelled = (await this.#producer.cancelRequests([id])).get(id);
    if (cancelled !== undefined) return this.#cancelled(id, cancelled, log);
    let params: never;
    try {
      params = definition.validate(data.params);
    } catch (error) {
      throw failure('BAD_PARAMS', `${job.name}: ${(error as Error).message}`, error);
    }

    const controller = new AbortController();
    this.#running.set(id, { controller });
    bullSignal?.addEventListener('abort', () => controller.abort({ code: 'CANCELLED', message: 'cancelled by the runner' } satisfies AbortReason), { once: true });
    const timeoutMs = data.timeoutMs;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort({ code: 'TIMEOUT', message: `try ${attempt} ran past its ${timeoutMs} ms timeout` } satisfies AbortReason), timeoutMs);
    const stored = new StoredWrites(job, log);
    log.info('job started');
    try {
      const client = await this.#connection.client(controller.signal);
      const context: JobContext = {
        id,
        name: job.name,
        attempt,
        attempts: job.opts.attempts ?? 1,
        client,
        signal: controller.signal,
        logger: log,
        progress: (fraction, message) => stored.progress(fraction, message),
        log: (line) => stored.line(line),
        enqueue: (name, params, options) => this.#enqueue(id, name, params, options),
      };
      const result = (await untilAborted(Promise.resolve(definition.run(context, params)), controller.signal)) ?? null;
      assertJson(result, `the result of ${job.name}`);
      return result;
    } catch (error) {
      const reason = controller.signal.aborted ? (controller.signal.reason as AbortReason | undefined) : undefined;
      if (reason?.code === 'CANCELLED') return await this.#cancelled(id, reason.message, log);
      if (reason?.code === 'TIMEOUT') throw new JobsError('TIMEOUT', `TIMEOUT: ${reason.message}`);
      // A job that says its input is wrong or a job it needs is missing would fail the same way on every try.
      if (isJobsError(error, 'BAD_PARAMS') || isJobsError(error, 'UNKNOWN_JOB')) throw failure(error.code, error.message, error);
      throw error;
    } finally {
      clearTimeout(timer);
      this.#running.delete(id);
      await stored.flush();
    }
  }

  async #cancelled(id: string, reason: string, log: Logger): Promise<never> {
    log.warn({ reason }, 'job cancelled');
    await this.#producer.clearCancelRequest(id).catch(() => undefined);
    throw failure('CANCELLED', reason);
  }

  async #enqueue(parentId: string, name: string, params: unknown, options: EnqueueOptions = {}): Promise<string> {
    const local = this.#definitions.get(name);
    return this.#producer.submit(local ?? name, params, {
      jobId: options.jobId ?? derivedJobId(parentId, name),
      startedBy: parentId,
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
      ...(options.delayMs === undefined ? {} : { delayMs: options.delayMs }),
    });
  }

  async #pollCancels(): Promise<void> {
    if (this.#running.size === 0) return;
    try {
      for (const [id, reason] of await this.#producer.cancelRequests([...this.#running.keys()])) {
        this.#running.get(id)?.controller.abort({ code: 'CANCELLED', message: reason } satisfies AbortReason);
      }
    } catch (error) {
      this.#log.debug({ err: (error as Error).message }, 'cancel check failed (Redis away); it runs again shortly');
    }
  }
}

/** A failure that retrying cannot mend: BullMQ moves the job to failed at once, with `CODE: message`. */
function failure(code: JobsErrorCode, message: string, cause?: unknown): UnrecoverableError {
  const error = new UnrecoverableError(`${code}: ${message}`);
  if (cause instanceof Error && cause.stack) error.stack = `UnrecoverableError: ${code}: ${message}\nCaused by: ${cause.stack}`;
  return error;
}

/** The job's promise, or a rejection as soon as the signal aborts: a job that ignores its signal still ends its try. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Progress and log lines written to the job in order, one at a time, without making the job wait or fail. */
class StoredWrites {
  #chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly job: Job,
    private readonly log: Logger,
  ) {}

  progress(fraction: number, message?: string): void {
    const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
    const value = message === undefined ? { fraction: clamped } : { fraction: clamped, message };
    this.log.info({ progress: clamped, ...(message === undefined ? {} : { step: message }) }, 'progress');
    this.#write(async () => {
      await this.job.updateProgress(value);
      await this.job.log(`${new Date().toISOString()} ${Math.round(clamped * 100)}%${message === undefined ? '' : ` ${message}`}`);
    });
  }

  line(text: string): void {
    this.log.info({ line: text }, 'job log');
    this.#write(() => this.job.log(`${new Date().toISOString()} ${text}`).then(() => undefined));
  }

  flush(): Promise<void> {
    return this.#chain;
  }

  #write(write: () => Promise<void>): void {
    this.#chain = this.#chain.then(write).catch((error: unknown) => this.log.warn({ err: (error as Error).message }, 'could not store a progress or log line'));
  }
}
