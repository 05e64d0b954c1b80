// LocalCluster: a real Loom cluster on this machine, a scheduler process and N worker processes started from the
// @loom/scheduler and @loom/worker entry points, for tests, notebooks and single-machine work. Each worker runs
// under its nanny by default (restarted when it dies or runs out of memory, like Dask); workers can be killed and
// added while it runs; close() stops them all.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LOG_LEVEL_ENV, LOG_LEVELS, LoomError, TOKEN_ENV, type LogLevel } from '@loom/protocol';
import { withWorkerMallocSettings } from '@loom/worker/malloc-env';
import { workerV8Flags } from '@loom/worker/v8-flags';
import { LoomProcess, killPid, type ExitStatus } from './child-process.js';
import { Client } from './client.js';
import { EmbeddedRedis } from './embedded-redis.js';

/** What a LocalCluster's processes log unless told otherwise: warnings and errors, not their routine info lines. */
const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

export interface LocalClusterOptions {
  /** Worker processes to start (default 2). */
  workers?: number;
  /** Task threads per worker (default 1). */
  threadsPerWorker?: number;
  /** Memory limit per worker, e.g. '2GiB' (default: the worker's own default). */
  memoryLimit?: string | number;
  /** Resources every worker declares, e.g. { GPU: 1 }. */
  resources?: Record<string, number>;
  /** Cluster token (default: $LOOM_TOKEN, else none). */
  token?: string;
  /** Scheduler bind address (default 127.0.0.1). */
  host?: string;
  /** Scheduler port (default 0: any free port). */
  port?: number;
  /** Extra environment for every process (merged over this process's environment). */
  env?: Record<string, string>;
  /**
   * Log level of the scheduler and workers (their JSON logs come out on this process's stderr). Default:
   * `LOOM_LOG_LEVEL` from `env` or this process's environment, else 'warn': like Dask's LocalCluster, a cluster
   * inside a script or notebook shows warnings and errors only.
   */
  logLevel?: LogLevel;
  /** How long each process may take to announce readiness (default 30 s). */
  readyTimeoutMs?: number;
  /** Extra scheduler flags, e.g. ['--max-message-size', '8MiB']. */
  schedulerArgs?: string[];
  /** Extra flags for every worker. */
  workerArgs?: string[];
  /**
   * Run each worker under a nanny that restarts it after a crash or when it passes its memory limit's terminate
   * threshold (default true). With false, a worker that dies stays dead. Either way workers start with the
   * allocator settings that keep their RSS honest (@loom/worker's malloc-env.ts).
   */
  nanny?: boolean;
  /**
   * Redis for durable jobs (@loom/jobs): true starts a private redis-server (free loopback port, data in a
   * temporary directory, append-only, noeviction) that close() stops; `{ redisUrl }` uses a Redis of your own.
   * Either way `cluster.redisUrl` says where it is. Without a redis-server binary, start() says how to install one.
   */
  jobs?: boolean | { redisUrl?: string };
  /**
   * The scheduler's dashboard (@loom/dashboard): true (default) serves it on port 8787, or a free port when that
   * one is taken; `{ port }` on that port (0: a free one); false serves none. Its URL is `dashboardUrl`, and is
   * printed on stderr when this process runs in a terminal. With `jobs`, its Jobs page shows this cluster's queue.
   */
  dashboard?: boolean | LocalDashboardOptions;
}

export interface LocalDashboardOptions {
  /** Default 8787 (a free port when taken); 0 picks a free one. */
  port?: number;
  /**
   * A Redis whose jobs queue the Jobs page shows (default: the cluster's own with `jobs`). It reaches the
   * scheduler in its environment, not on its command line, so a password in it is not visible to `ps`.
   */
  jobsRedis?: string;
  /** The jobs queue to show (default 'loom'). */
  jobsQueue?: string;
  /** A model store directory the Models page shows. */
  modelStore?: string;
}

/** The scheduler's variable for the Jobs page's Redis (@loom/scheduler's JOBS_REDIS_ENV). */
const JOBS_REDIS_ENV = 'LOOM_JOBS_REDIS';

export interface AddWorkerOptions {
  name?: string;
  threads?: number;
  memoryLimit?: string | number;
  resources?: Record<string, number>;
  args?: string[];
}

export interface LocalWorker {
  /** The worker process itself (not its nanny): signal this one to freeze or crash the worker. */
  pid: number;
  /** The nanny supervising the worker, if it runs under one. */
  nannyPid?: number;
  name: string;
  /** host:port of the worker's data service. */
  address: string;
  /** The id the scheduler gave the worker. */
  id: string;
}

interface RunningWorker {
  info: LocalWorker;
  /** The nanny when `nanny`, else the worker itself. */
  process: LoomProcess;
  nanny: boolean;
  /** Start order: workers started together are listed in the order they were asked for, not as they got ready. */
  sequence: number;
}

export class LocalCluster {
  readonly #scheduler: LoomProcess;
  readonly #options: LocalClusterOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #workers: RunningWorker[] = [];
  #nextIndex = 0;
  #closing: Promise<void> | undefined;
  #redis: EmbeddedRedis | undefined;

  /** The scheduler's host:port, for Client.connect. */
  readonly address: string;
  /** Where jobs keep their queue (with `jobs`), for @loom/jobs' JobQueue and runners. */
  redisUrl: string | undefined;
  /** The scheduler's dashboard, e.g. http://127.0.0.1:8787/ (undefined with `dashboard: false`). */
  dashboardUrl: string | undefined;

  private constructor(scheduler: LoomProcess, address: string, options: LocalClusterOptions, env: NodeJS.ProcessEnv) {
    this.#scheduler = scheduler;
    this.address = address;
    this.#options = options;
    this.#env = env;
  }

  /** Starts the scheduler, then the workers, and resolves once every process has announced it is ready. */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const inherited: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    const token = options.token ?? (inherited[TOKEN_ENV] || undefined);
    const logLevel = options.logLevel ?? (inherited[LOG_LEVEL_ENV] || DEFAULT_LOG_LEVEL);
    if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new RangeError(`log level '${logLevel}' is not one of ${LOG_LEVELS.join(', ')}`);
    // The token reaches the scheduler and workers through their environment: any user can read command lines (ps).
    const env: NodeJS.ProcessEnv = { ...inherited, [LOG_LEVEL_ENV]: logLevel, ...(token === undefined ? {} : { [TOKEN_ENV]: token }) };
    const args = ['--host', options.host ?? '127.0.0.1', '--port', String(options.port ?? 0)];
    const dashboard = options.dashboard ?? true;
    const shown = dashboard === true || dashboard === false ? {} : dashboard;
    if (dashboard === false) args.push('--no-dashboard');
    else if (shown.port !== undefined) args.push('--dashboard-port', String(shown.port));
    if (shown.jobsQueue !== undefined) args.push('--jobs-queue', shown.jobsQueue);
    if (shown.modelStore !== undefined) args.push('--model-store', shown.modelStore);
    args.push(...(options.schedulerArgs ?? []));
    // This process most likely runs the cluster's client: its warm-up runs while the other processes start.
    const warmedUp = Client.warmUp();
    // Redis first, so that the scheduler's Jobs page can be pointed at it.
    const redis = options.jobs ? await startRedis(options.jobs === true ? {} : options.jobs) : undefined;
    const jobsRedis = dashboard === false ? undefined : (shown.jobsRedis ?? redis?.url);
    let launched;
    try {
      launched = await LoomProcess.launch({
        label: 'the Loom scheduler',
        entry: entryPoint('@loom/scheduler/main'),
        args,
        env: jobsRedis === undefined ? env : { ...env, [JOBS_REDIS_ENV]: jobsRedis },
        readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      });
    } catch (error) {
      await redis?.embedded?.close();
      throw error;
    }
    const { process: scheduler, ready } = launched;
    const address = typeof ready['address'] === 'string' ? ready['address'] : undefined;
    if (address === undefined) {
      await scheduler.stop('SIGKILL');
      await redis?.embedded?.close();
      throw new LoomError('INTERNAL', `the Loom scheduler announced no address: ${JSON.stringify(ready)}`);
    }
    const cluster = new LocalCluster(scheduler, address, options, env);
    cluster.redisUrl = redis?.url;
    cluster.#redis = redis?.embedded;
    if (typeof ready['dashboard'] === 'string') {
      cluster.dashboardUrl = ready['dashboard'];
      if (process.stderr.isTTY) process.stderr.write(`Loom dashboard: ${cluster.dashboardUrl}\n`);
    }
    try {
      await Promise.all(Array.from({ length: options.workers ?? 2 }, () => cluster.addWorker()));
    } catch (error) {
      await cluster.close();
      throw error;
    }
    await warmedUp;
    return cluster;
  }

  /** The scheduler's process id (to signal it, or to read its CPU time from /proc). */
  get schedulerPid(): number {
    return this.#scheduler.pid;
  }

  /** The running workers, in the order they were started. */
  get workers(): readonly LocalWorker[] {
    return this.#workers.map((worker) => worker.info);
  }

  /** Starts one more worker and resolves once it is ready (connected to the scheduler). */
  async addWorker(options: AddWorkerOptions = {}): Promise<LocalWorker> {
    if (this.#closing) throw new LoomError('CANCELLED', 'the local cluster is closing');
    const defaults = this.#options;
    const sequence = this.#nextIndex++;
    const name = options.name ?? `local-${sequence}`;
    const args = [this.address, '--nthreads', String(options.threads ?? defaults.threadsPerWorker ?? 1), '--name', name];
    const memoryLimit = options.memoryLimit ?? defaults.memoryLimit;
    if (memoryLimit !== undefined) args.push('--memory-limit', String(memoryLimit));
    const resources = options.resources ?? defaults.resources;
    if (resources && Object.keys(resources).length > 0) {
      args.push('--resources', Object.entries(resources).map(([resource, amount]) => `${resource}=${amount}`).join(','));
    }
    args.push(...(defaults.workerArgs ?? []), ...(options.args ?? []));
    const nanny = defaults.nanny ?? true;
    if (!nanny) args.push('--no-nanny');
    const { process: child, ready } = await LoomProcess.launch({
      label: `Loom worker '${name}'`,
      entry: entryPoint('@loom/worker/main'),
      args,
      // A nanny gives its worker these itself; a worker without one must start with them.
      nodeFlags: nanny ? [] : workerV8Flags(this.#env),
      env: nanny ? this.#env : withWorkerMallocSettings(this.#env),
      readyTimeoutMs: defaults.readyTimeoutMs ?? 30_000,
    });
    const describe = (announced: Record<string, unknown>): LocalWorker => ({
      pid: typeof announced['pid'] === 'number' ? announced['pid'] : child.pid,
      ...(nanny ? { nannyPid: child.pid } : {}),
      name: typeof announced['name'] === 'string' ? announced['name'] : name,
      address: typeof announced['address'] === 'string' ? announced['address'] : '',
      id: typeof announced['id'] === 'string' ? announced['id'] : '',
    });
    const info = describe(ready);
    const running: RunningWorker = { info, process: child, sequence, nanny };
    if (nanny) {
      child.companionPid = info.pid;
      // The nanny restarted its worker: a new process (and data address) under the same name.
      child.onReannounce = (announced) => {
        running.info = describe(announced);
        child.companionPid = running.info.pid;
      };
    }
    this.#workers.push(running);
    this.#workers.sort((a, b) => a.sequence - b.sequence);
    // A worker that dies on its own leaves the list, so `workers` shows what runs.
    void child.exited.then(() => this.#forget(running));
    return info;
  }

  /**
   * Kills the worker at `index` of `workers` (SIGKILL by default: a crash) and resolves once it has exited. A
   * nanny goes with it, so the worker does not come back: SIGTERM/SIGINT reach the worker through its nanny
   * (a graceful close, the nanny then exits with the worker's status); any other signal kills the nanny first and
   * then hits the worker, and the call resolves once the worker process is gone too.
   */
  async killWorker(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    const worker = this.#workers[index];
    if (!worker) throw new RangeError(`no worker at index ${index} (there are ${this.#workers.length})`);
    this.#forget(worker);
    if (!worker.nanny) return worker.process.stop(signal);
    if (signal === 'SIGTERM' || signal === 'SIGINT') return this.#stopSupervised(worker, signal, 5_000);
    const nannyExited = worker.process.stop('SIGKILL');
    killPid(worker.info.pid, signal);
    await nannyExited;
    await processGone(worker.info.pid);
    return signal === 'SIGKILL' ? { code: null, signal } : nannyExited;
  }

  /** Stops the workers, then the scheduler: SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  close(graceMs = 5_000): Promise<void> {
    this.#closing ??= (async () => {
      const workers = this.#workers.splice(0);
      await Promise.all(workers.map((worker) => (worker.nanny ? this.#stopSupervised(worker, 'SIGTERM', graceMs) : worker.process.stop('SIGTERM', graceMs))));
      await this.#scheduler.stop('SIGTERM', graceMs);
      await this.#redis?.close();
    })();
    return this.#closing;
  }

  /** Signals the nanny (it forwards to the worker); if it had to be killed, its worker is killed as well. */
  async #stopSupervised(worker: RunningWorker, signal: NodeJS.Signals, graceMs: number): Promise<ExitStatus> {
    const status = await worker.process.stop(signal, graceMs);
    if (status.code !== 0) {
      killPid(worker.info.pid, 'SIGKILL');
      await processGone(worker.info.pid);
    }
    return status;
  }

  #forget(worker: RunningWorker): void {
    const index = this.#workers.indexOf(worker);
    if (index >= 0) this.#workers.splice(index, 1);
  }
}

/** The jobs' Redis: the one given, or a private redis-server that the cluster stops at close. */
async function startRedis(jobs: { redisUrl?: string }): Promise<{ url: string; embedded?: EmbeddedRedis }> {
  if (jobs.redisUrl !== undefined) return { url: jobs.redisUrl };
  const embedded = await EmbeddedRedis.start();
  return { url: embedded.url, embedded };
}

/** Resolves once `pid` no longer runs (a zombie counts as gone: its parent, the nanny, may be dead already). */
async function processGone(pid: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && running(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
}

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    // No /proc (not Linux) or no such process: ask the kernel directly.
    try {
      process.kill(pid, 0);
      return process.platform !== 'linux';
    } catch {
      return false;
    }
  }
}

function entryPoint(specifier: string): string {
  try {
    return fileURLToPath(import.meta.resolve(specifier));
  } catch (error) {
    throw new LoomError('INTERNAL', `cannot find ${specifier} (is it installed and built?): ${(error as Error).message}`);
  }
}
