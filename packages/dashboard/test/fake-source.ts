// A DashboardSource with figures a test sets directly, for server tests without a cluster.
import { emptyStateCounts, type DashboardSource, type DashboardSnapshot, type SnapshotLimits, type TaskEvent, type TaskFailureView, type WorkerLogsView, type WorkerView } from '../src/index.js';

/** A worker view with every figure zero (or the defaults) except those given. */
export function fakeWorker(fields: Partial<WorkerView> & { id: string }): WorkerView {
  return {
    name: fields.id, address: 'a', nthreads: 1, resources: {}, memoryLimit: 1, managedBytes: 0, unmanagedBytes: 0, spilledBytes: 0, rssBytes: 0,
    paused: false, closing: false, processing: 0, inMemory: 0, lastSeenMsAgo: 0, thresholds: { target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95 },
    spillWriteBytesTotal: 0, spillReadBytesTotal: 0, transferIncomingBytesTotal: 0, transferOutgoingBytesTotal: 0,
    transferIncomingCalls: 0, transferIncomingBytes: 0, transferOutgoingCalls: 0, transferOutgoingBytes: 0,
    ...fields,
  };
}

export class FakeSource implements DashboardSource {
  workers: WorkerView[] = [];
  events: TaskEvent[] = [];
  failureList: TaskFailureView[] = [];
  logs = new Map<string, WorkerLogsView>();
  finished = 0;
  snapshots = 0;

  snapshot(limits: SnapshotLimits): Omit<DashboardSnapshot, 'tasksPerSecond'> {
    this.snapshots += 1;
    const workers = this.workers.slice(0, limits.workers);
    return {
      atMs: Date.now(),
      totals: {
        workers: this.workers.length, threads: 1, clients: 0, tasks: 0, memoryLimitBytes: 0, managedBytes: 0, spilledBytes: 0, rssBytes: 0,
        finishedTotal: this.finished, erredTotal: 0, forgottenTotal: 0, computeSecondsTotal: 0,
      },
      taskCounts: emptyStateCounts(),
      thresholds: { target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95 },
      workers,
      workersOmitted: this.workers.length - workers.length,
      prefixes: [],
      prefixesOmitted: 0,
    };
  }

  taskEvents(afterSeq: number, limit: number): TaskEvent[] {
    return this.events.filter((event) => event.seq > afterSeq).slice(-limit);
  }

  failures(limit: number): TaskFailureView[] {
    return this.failureList.slice(-limit);
  }

  workerLogs(workerId: string): WorkerLogsView {
    return this.logs.get(workerId) ?? { lines: [], dropped: 0 };
  }

  addEvent(worker = 'w1'): void {
    const seq = this.events.length + 1;
    this.events.push({ seq, worker, thread: 1, prefix: 'p', name: 'p', startMs: Date.now() - 5, stopMs: Date.now(), kind: 'compute' });
    this.finished += 1;
  }
}
