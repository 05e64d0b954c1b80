// Starting and stopping a worker: wires the data store, the GetData server, the task threads, the peer fetcher
// and the scheduler session together, and owns the worker's lifecycle (heartbeats, graceful close, and what
// happens when the scheduler goes away).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  LoomError,
  assertSafeBind,
  createLogger,
  parseBytes,
  resolveToken,
  warmUpEnabled,
  type Logger,
  type TlsFiles,
} from '@loom/protocol';
import { startDataServer, type DataServer } from './data-server.js';
import { DEFAULT_THRESHOLDS, MemoryManager, parseThreshold, type MemoryThresholds } from './memory-manager.js';
import { SpillStore } from './spill-store.js';
import { SPILL_COMPRESSIONS, type SpillCompression } from './spill-file.js';
import { PeerFetcher } from './peer-fetch.js';
import { SchedulerLink } from './scheduler-link.js';
import { TaskRunner } from './task-runner.js';
import { warmUpWorker } from './warm-up.js';
import { WorkerActivity } from './worker-activity.js';
import { WorkerLogRing } from './worker-log.js';
import { threadHeapLimits, ThreadPool } from './thread-pool.js';
import type { SchedulerInstructions, WorkerIdentity } from './task-types.js';

export interface WorkerOptions {
  /** host:port of the scheduler. */
  schedulerAddress: string;
  /** Task threads, i.e. tasks run at once. Default 1. */
  nthreads?: number;
  /** Reported to the scheduler; bytes or a size such as '4GiB'. Default: the machine's total memory. */
  memoryLimit?: number | string;
  /** Spill least recently used results above this fraction of memoryLimit in managed bytes. Default 0.6. */
  memoryTarget?: number | false;
  /** Spill (LRU) while process RSS is above this fraction of memoryLimit. Default 0.7. */
  memorySpill?: number | false;
  /** Start no task and throttle GetData while process RSS is above this fraction. Default 0.8. */
  memoryPause?: number | false;
  /** The nanny kills and restarts the worker above this fraction (the worker itself only validates it). Default 0.95. */
  memoryTerminate?: number | false;
  /**
   * Inputs read back from disk or fetched from peers for tasks not yet running are held to this fraction of
   * memoryLimit (one task's inputs may exceed it alone); `false`: no bound. Default 0.1, as Dask's
   * distributed.worker.memory.transfer.
   */
  memoryTransfer?: number | false;
  /** Where the worker's fresh scratch directory (spill files) is created. Default: os.tmpdir(). */
  localDirectory?: string;
  /** Compression of spill files. Default 'none' (fastest; spilled bytes are then the encoded bytes plus 32). */
  spillCompression?: SpillCompression;
  /** How often memory is checked besides after every task result. Default 100 ms. */
  memoryCheckIntervalMs?: number;
  /** Abstract resources this worker offers, e.g. { GPU: 1 }. */
  resources?: Record<string, number>;
  /** Unique in the cluster. Default: worker-<pid>-<random>. */
  name?: string;
  /** Where the GetData server listens. Default 127.0.0.1; anything beyond loopback requires a token. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** The cluster token. Default: the LOOM_TOKEN environment variable. */
  token?: string;
  tls?: TlsFiles;
  /** Largest chunk of a value GetData sends. Default 1 MiB. */
  chunkBytes?: number;
  maxMessageBytes?: number;
  /** How long to wait for the scheduler to accept the connection. Default 30 s. */
  connectTimeoutMs?: number;
  /**
   * Called after the worker lost its scheduler (or its task threads cannot start) and stopped itself. Default:
   * exit the process with status 1, since a worker without a scheduler is useless and its supervisor restarts it.
   */
  onFatal?: (error: LoomError) => void;
}

export interface WorkerHandle {
  /** The id the scheduler gave this worker. */
  readonly id: string;
  readonly name: string;
  /** host:port of this worker's GetData service. */
  readonly address: string;
  /** The scratch directory holding this worker's spill files; removed when the worker stops. */
  readonly localDirectory: string;
  /** Managed, spilled and resident bytes and whether the worker is paused, as the heartbeat reports them. */
  memory(): { managedBytes: number; spilledBytes: number; rssBytes: number; paused: boolean };
  /** Graceful: hands back queued tasks, lets running ones finish and report, then stops everything. */
  close(): Promise<void>;
  /** Settles once the worker has stopped, whether by close() or because the scheduler asked it to. */
  readonly closed: Promise<void>;
}

const DEFAULT_CHUNK_BYTES = 2 ** 20;
/** Share of the memory limit that inputs loaded for queued tasks may hold (see WorkerOptions.memoryTransfer). */
const DEFAULT_TRANSFER_FRACTION = 0.1;
const DEFAULT_HEARTBEAT_MS = 1_000;
const STREAM_END_GRACE_MS = 5_000;
const DATA_SERVER_GRACE_MS = 2_000;
/** GetData calls served at once while paused. */
const PAUSED_GETDATA_STREAMS = 1;

export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const nthreads = options.nthreads ?? 1;
  if (!Number.isInteger(nthreads) || nthreads < 1) throw new RangeError(`nthreads must be a positive integer, got ${nthreads}`);
  const host = options.host ?? '127.0.0.1';
  const token = resolveToken(options.token);
  assertSafeBind(host, token);
  const name = options.name ?? `worker-${process.pid}-${randomBytes(3).toString('hex')}`;
  const memoryLimit = options.memoryLimit === undefined ? totalmem() : parseBytes(options.memoryLimit);
  // The heartbeats carry the recent lines to the scheduler's dashboard; stderr gets every line as before.
  const logs = new WorkerLogRing();
  const logger = createLogger('worker', { worker: name }, { tee: logs });
  const thresholds = memoryThresholds(options);
  const transfer = parseThreshold('memoryTransfer', options.memoryTransfer ?? DEFAULT_TRANSFER_FRACTION);
  const compression = options.spillCompression ?? 'none';
  if (!SPILL_COMPRESSIONS.includes(compression)) throw new RangeError(`spillCompression must be one of ${SPILL_COMPRESSIONS.join(', ')}, got '${compression}'`);
  const parent = options.localDirectory ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  // Link is set once the session exists; a spill file found corrupt before that has no one to tell yet.
  let reportLost: (keys: string[]) => void = () => undefined;
  const activity = new WorkerActivity();
  const store = new SpillStore({
    directory: mkdtempSync(join(parent, 'loom-worker-')),
    compression,
    onLost: (keys) => reportLost(keys),
    logger,
    activity,
  });
  let paused = false;

  // The data server comes first: its address is part of the hello.
  const server = await startDataServer({
    host,
    port: options.port ?? 0,
    token,
    tls: options.tls,
    chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    maxMessageBytes: options.maxMessageBytes,
    store,
    logger,
    activity,
    // A paused worker still serves its data (peers may need it to make progress) but one caller at a time.
    streamLimit: () => (paused ? PAUSED_GETDATA_STREAMS : Infinity),
  }).catch((error: unknown) => {
    store.close();
    throw error;
  });
  const worker = new LoomWorker(options, {
    name,
    address: server.address,
    nthreads,
    memoryLimit,
    thresholds,
    loadBudgetBytes: transfer === false ? Infinity : transfer * memoryLimit,
    token,
    logger,
    store,
    server,
    activity,
    logs,
    setPaused: (value) => {
      paused = value;
      if (!value) server.wakeWaiting();
    },
  });
  reportLost = (keys) => worker.keysLost(keys);
  try {
    const id = await worker.start();
    logger.info({ id, address: server.address, scheduler: options.schedulerAddress, nthreads, localDirectory: store.directory }, 'worker started');
    return {
      id,
      name,
      address: server.address,
      localDirectory: store.directory,
      memory: () => worker.memory(),
      close: () => worker.close(),
      closed: worker.closed,
    };
  } catch (error) {
    await worker.abort();
    throw error;
  }
}

/** The thresholds from the options, validated; the terminate fraction is checked here though the nanny applies it. */
export function memoryThresholds(options: Pick<WorkerOptions, 'memoryTarget' | 'memorySpill' | 'memoryPause' | 'memoryTerminate'>): MemoryThresholds {
  return {
    target: parseThreshold('memoryTarget', options.memoryTarget ?? DEFAULT_THRESHOLDS.target),
    spill: parseThreshold('memorySpill', options.memorySpill ?? DEFAULT_THRESHOLDS.spill),
    pause: parseThreshold('memoryPause', options.memoryPause ?? DEFAULT_THRESHOLDS.pause),
    terminate: parseThreshold('memoryTerminate', options.memoryTerminate ?? DEFAULT_THRESHOLDS.terminate),
  };
}

/** JIT state belongs to the process: a second worker in the same process (tests) needs no second warm-up. */
let mainThreadWarmedUp = false;

/** Never rejects: a failed warm-up (a bug) costs speed, not the worker. */
async function warmUpMainThread(nthreads: number, logger: Logger): Promise<void> {
  mainThreadWarmedUp = true;
  try {
    await warmUpWorker(nthreads);
  } catch (error) {
    logger.warn({ err: error }, 'the start-up warm-up failed; the worker runs the same without it');
  }
}

interface WorkerParts {
  name: string;
  address: string;
  nthreads: number;
  memoryLimit: number;
  thresholds: MemoryThresholds;
  /** Bytes of inputs loaded for tasks not yet running (TaskRunner's load budget). */
  loadBudgetBytes: number;
  token: string | undefined;
  logger: Logger;
  store: SpillStore;
  server: DataServer;
  activity: WorkerActivity;
  logs: WorkerLogRing;
  /** Tells the data server to throttle (or not). */
  setPaused(paused: boolean): void;
}

class LoomWorker {
  private readonly link: SchedulerLink;
  private readonly pool: ThreadPool;
  private readonly fetcher: PeerFetcher;
  private readonly runner: TaskRunner;
  private readonly memoryManager: MemoryManager;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private markClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(
    private readonly options: WorkerOptions,
    private readonly parts: WorkerParts,
  ) {
    const { address, token, logger, store } = parts;
    this.link = new SchedulerLink({
      address: options.schedulerAddress,
      token,
      tls: options.tls,
      maxMessageBytes: options.maxMessageBytes,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      logger,
    });
    this.fetcher = new PeerFetcher({ selfAddress: address, token, tls: options.tls, maxMessageBytes: options.maxMessageBytes, logger, activity: parts.activity });
    this.pool = new ThreadPool(
      parts.nthreads,
      {
        results: (results, batchDone, slot) => {
          this.runner.onResults(results, batchDone, slot);
          // Task threads share this process: a task that read a large partition shows in RSS right now.
          this.memoryManager.checkAfterResults();
        },
        requeue: (tasks) => this.runner.onRequeue(tasks),
        fatal: (error) => this.fail(new LoomError('INTERNAL', error.message)),
      },
      logger,
      threadHeapLimits(parts.memoryLimit, parts.nthreads),
    );
    this.runner = new TaskRunner({
      store, fetcher: this.fetcher, executor: this.pool, reporter: this.link, address, logger, loadBudgetBytes: parts.loadBudgetBytes,
    });
    this.memoryManager = new MemoryManager({
      store,
      memoryLimit: parts.memoryLimit,
      thresholds: parts.thresholds,
      rss: () => process.memoryUsage.rss(),
      runningTasks: () => this.runner.executing,
      onPauseChange: (paused) => {
        this.runner.setPaused(paused);
        parts.setPaused(paused);
        // The scheduler must stop assigning now, not at the next heartbeat.
        this.sendHeartbeat();
      },
      logger,
      intervalMs: options.memoryCheckIntervalMs,
    });
  }

  keysLost(keys: string[]): void {
    this.link.keysLost(keys);
  }

  memory(): { managedBytes: number; spilledBytes: number; rssBytes: number; paused: boolean } {
    const { store } = this.parts;
    return { managedBytes: store.managedBytes, spilledBytes: store.spilledBytes, rssBytes: process.memoryUsage.rss(), paused: this.memoryManager.paused };
  }

  async start(): Promise<string> {
    const { name, address, nthreads, memoryLimit, thresholds } = this.parts;
    // The scheduler assigns work the moment it hears from us, so we say hello only once the threads can run it.
    // The main thread's warm-up runs meanwhile: the threads take longer to load than it takes.
    const warmUp = warmUpEnabled() && !mainThreadWarmedUp ? warmUpMainThread(nthreads, this.parts.logger) : undefined;
    try {
      await this.pool.ready;
    } catch (error) {
      throw new LoomError('INTERNAL', (error as Error).message);
    }
    await warmUp;
    const off = (fraction: number | false): number => (fraction === false ? 0 : fraction);
    const identity: WorkerIdentity = {
      name, address, nthreads, memoryLimit, resources: this.options.resources ?? {}, pid: process.pid,
      thresholds: { target: off(thresholds.target), spill: off(thresholds.spill), pause: off(thresholds.pause), terminate: off(thresholds.terminate) },
    };
    const welcome = await this.link.open(identity, {
      welcome: (w) => {
        this.runner.setInlineValueBytes(w.inlineValueBytes);
        const interval = w.heartbeatIntervalMs > 0 ? w.heartbeatIntervalMs : DEFAULT_HEARTBEAT_MS;
        this.heartbeat = setInterval(() => this.sendHeartbeat(), interval);
        this.heartbeat.unref();
        this.memoryManager.start();
        // The scheduler learns our memory figures at once rather than one interval later.
        this.sendHeartbeat();
      },
      instructions: (instructions) => this.apply(instructions),
      lost: (error) => this.fail(error),
    });
    return welcome.workerId;
  }

  close(): Promise<void> {
    this.closing ??= this.closeGracefully();
    return this.closing;
  }

  /** Stops everything at once, reporting nothing more. */
  async abort(): Promise<void> {
    clearInterval(this.heartbeat);
    this.memoryManager.stop();
    this.link.abort();
    this.fetcher.close();
    this.parts.server.forceClose();
    await this.pool.close();
    this.parts.store.close();
  }

  private apply(instructions: SchedulerInstructions): void {
    this.runner.define(instructions.functions);
    this.runner.apply(instructions);
    if (instructions.shutdown) {
      this.parts.logger.info('the scheduler asked this worker to shut down');
      void this.close();
    }
  }

  private sendHeartbeat(): void {
    const { activity } = this.parts;
    const now = performance.now();
    const { spans, dropped } = activity.take();
    const logs = this.parts.logs.take(now);
    this.link.metrics({
      ...this.memory(),
      executing: this.runner.executing,
      ready: this.runner.queued,
      ...activity.totals,
      ...activity.inFlight,
      activity: spans.map(({ kind, startedAt, durationMs, bytes, peer }) => ({ kind, startedMsAgo: now - startedAt, durationMs, bytes, ...(peer === undefined ? {} : { peer }) })),
      activityDropped: dropped,
      logs: logs.lines,
      logsDropped: logs.dropped,
    });
  }

  private async closeGracefully(): Promise<void> {
    const { logger, server } = this.parts;
    // Both go out in one message: the scheduler learns we are closing and gets the queued tasks back together.
    this.link.announceClosing();
    const handedBack = this.runner.close();
    logger.info({ handedBack, running: this.runner.executing }, 'closing: finishing running tasks');
    await this.runner.whenIdle();
    clearInterval(this.heartbeat);
    this.memoryManager.stop();
    await this.link.close(STREAM_END_GRACE_MS);
    await server.close(DATA_SERVER_GRACE_MS);
    this.fetcher.close();
    await this.pool.close();
    this.parts.store.close();
    logger.info('worker closed');
    this.markClosed();
  }

  /** The scheduler is gone (or the threads cannot start): stop hard, then let the owner decide (default: exit 1). */
  private fail(error: LoomError): void {
    if (this.closing) return;
    this.closing = (async () => {
      this.parts.logger.error({ err: error }, 'worker cannot continue; shutting down');
      await this.abort();
      this.markClosed();
      const onFatal = this.options.onFatal ?? (() => process.exit(1));
      onFatal(error);
    })();
  }
}
