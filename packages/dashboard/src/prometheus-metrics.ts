// `/metrics`: the cluster in Prometheus text format, names after Dask's where the idea is the same. Worker
// figures come from the heartbeats the scheduler aggregates (workers serve no HTTP port of their own), so one
// scrape of the scheduler sees the whole cluster. prom-client writes the exposition format; every value is read
// from one snapshot taken at scrape time (not kept up to date between scrapes: nothing runs while no one scrapes).
import { Counter, Gauge, Registry } from 'prom-client';
import type { DashboardSnapshot, DashboardSource } from './snapshot.js';
import { TASK_STATES } from './snapshot.js';

/** A scrape lists every worker and every kind of task with live or recent tasks (the page caps are for pages). */
const SCRAPE_LIMITS = { workers: Number.MAX_SAFE_INTEGER, prefixes: 10_000 };

export class PrometheusMetrics {
  readonly registry = new Registry();
  #snapshot: Omit<DashboardSnapshot, 'tasksPerSecond'> | undefined;

  constructor(private readonly source: DashboardSource) {
    const registers = [this.registry];
    const current = () => this.#snapshot!;
    new Gauge({ name: 'loom_scheduler_workers', help: 'Workers connected to the scheduler', registers, collect() { this.set(current().totals.workers); } });
    new Gauge({ name: 'loom_scheduler_threads', help: 'Task threads of the connected workers', registers, collect() { this.set(current().totals.threads); } });
    new Gauge({ name: 'loom_scheduler_clients', help: 'Clients connected to the scheduler', registers, collect() { this.set(current().totals.clients); } });
    new Gauge({
      name: 'loom_scheduler_tasks',
      help: 'Tasks the scheduler knows, by state',
      labelNames: ['state'],
      registers,
      collect() {
        for (const state of TASK_STATES) if (state !== 'forgotten') this.set({ state }, current().taskCounts[state]);
      },
    });
    counter(registers, 'loom_scheduler_tasks_forgotten_total', 'Tasks the scheduler forgot (done and released)', () => current().totals.forgottenTotal);
    counter(registers, 'loom_scheduler_tasks_finished_total', 'Task results that reached memory', () => current().totals.finishedTotal);
    counter(registers, 'loom_scheduler_task_failures_total', 'Task runs that failed (retried or not)', () => current().totals.erredTotal);
    new Counter({
      name: 'loom_scheduler_tasks_compute_seconds_total',
      help: 'Task run time reported by workers, by task prefix (function name), for the prefixes with live or recent tasks',
      labelNames: ['prefix'],
      registers,
      collect() {
        this.reset();
        for (const prefix of current().prefixes) this.inc({ prefix: prefix.name }, prefix.computeSeconds);
      },
    });
    new Gauge({
      name: 'loom_worker_memory_bytes',
      help: 'Worker memory by type: managed (results in memory), unmanaged (the rest of the RSS), spilled (results on disk)',
      labelNames: ['worker', 'type'],
      registers,
      collect() {
        this.reset();
        for (const worker of current().workers) {
          this.set({ worker: worker.name, type: 'managed' }, worker.managedBytes);
          this.set({ worker: worker.name, type: 'unmanaged' }, worker.unmanagedBytes);
          this.set({ worker: worker.name, type: 'spilled' }, worker.spilledBytes);
        }
      },
    });
    perWorker(registers, 'loom_worker_memory_limit_bytes', 'Worker memory limit', current, (worker) => worker.memoryLimit);
    perWorker(registers, 'loom_worker_threads', 'Worker task threads', current, (worker) => worker.nthreads);
    perWorker(registers, 'loom_worker_paused', '1 while the worker starts no new tasks because of memory pressure', current, (worker) => (worker.paused ? 1 : 0));
    perWorker(registers, 'loom_worker_last_seen_seconds', 'Seconds since the worker last reported to the scheduler', current, (worker) => worker.lastSeenMsAgo / 1000);
    new Counter({
      name: 'loom_worker_spill_bytes_total',
      help: 'Bytes of results a worker wrote to spill files (activity="disk_write") and read back (activity="disk_read")',
      labelNames: ['worker', 'activity'],
      registers,
      collect() {
        this.reset();
        for (const worker of current().workers) {
          this.inc({ worker: worker.name, activity: 'disk_write' }, worker.spillWriteBytesTotal);
          this.inc({ worker: worker.name, activity: 'disk_read' }, worker.spillReadBytesTotal);
        }
      },
    });
    perWorker(registers, 'loom_worker_transfer_incoming_bytes_total', 'Bytes of task inputs a worker fetched from other workers', current, (worker) => worker.transferIncomingBytesTotal, 'counter');
    perWorker(registers, 'loom_worker_transfer_outgoing_bytes_total', 'Bytes of results a worker sent to other workers and to clients', current, (worker) => worker.transferOutgoingBytesTotal, 'counter');
    // In flight at the last heartbeat, as Dask's dask_worker_transfer_{incoming,outgoing}_{bytes,count}.
    perWorker(registers, 'loom_worker_transfer_incoming_bytes', 'Bytes of inputs a worker is fetching from other workers now (their sizes as the scheduler knows them)', current, (worker) => worker.transferIncomingBytes);
    perWorker(registers, 'loom_worker_transfer_incoming_count', 'GetData calls a worker is waiting on now', current, (worker) => worker.transferIncomingCalls);
    perWorker(registers, 'loom_worker_transfer_outgoing_bytes', 'Bytes of results a worker is still to send to other workers and clients', current, (worker) => worker.transferOutgoingBytes);
    perWorker(registers, 'loom_worker_transfer_outgoing_count', 'GetData calls a worker is answering now', current, (worker) => worker.transferOutgoingCalls);
    new Gauge({
      name: 'loom_worker_memory_threshold_ratio',
      help: 'A worker\'s memory thresholds as fractions of its limit (0: off): target (spill), spill (by RSS), pause, terminate',
      labelNames: ['worker', 'threshold'],
      registers,
      collect() {
        this.reset();
        for (const worker of current().workers) {
          for (const threshold of ['target', 'spill', 'pause', 'terminate'] as const) this.set({ worker: worker.name, threshold }, worker.thresholds[threshold]);
        }
      },
    });
    new Gauge({
      name: 'loom_worker_tasks',
      help: 'Tasks per worker, by state: processing (sent and not reported back), memory (results it holds)',
      labelNames: ['worker', 'state'],
      registers,
      collect() {
        this.reset();
        for (const worker of current().workers) {
          this.set({ worker: worker.name, state: 'processing' }, worker.processing);
          this.set({ worker: worker.name, state: 'memory' }, worker.inMemory);
        }
      },
    });
  }

  /** The exposition text, from one snapshot of the source. */
  async text(): Promise<string> {
    // Kept after the scrape: two scrapes in flight at once both read a snapshot (the later one).
    this.#snapshot = this.source.snapshot(SCRAPE_LIMITS);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function counter(registers: Registry[], name: string, help: string, value: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(value());
    },
  });
}

/**
 * One value per worker, as a gauge or (for running totals) a counter. prom-client's counters only go up, so a
 * counter is rebuilt from nothing at each scrape and incremented to the worker's total.
 */
function perWorker(
  registers: Registry[],
  name: string,
  help: string,
  current: () => Omit<DashboardSnapshot, 'tasksPerSecond'>,
  value: (worker: DashboardSnapshot['workers'][number]) => number,
  type: 'gauge' | 'counter' = 'gauge',
): void {
  const configuration = { name, help, labelNames: ['worker'] as const, registers };
  if (type === 'counter') {
    new Counter({
      ...configuration,
      collect() {
        this.reset();
        for (const worker of current().workers) this.inc({ worker: worker.name }, value(worker));
      },
    });
    return;
  }
  new Gauge({
    ...configuration,
    collect() {
      this.reset();
      for (const worker of current().workers) this.set({ worker: worker.name }, value(worker));
    },
  });
}
