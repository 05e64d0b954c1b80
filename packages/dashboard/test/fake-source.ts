// A DashboardSource with figures a test sets directly, for server tests without a cluster.
import { emptyStateCounts, type DashboardSource, type DashboardSnapshot, type SnapshotLimits, type TaskEvent, type TaskFailureView, type WorkerView } from '../src/index.js';

export class FakeSource implements DashboardSource {
  workers: WorkerView[] = [];
  events: TaskEvent[] = [];
  failureList: TaskFailureView[] = [];
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

  addEvent(worker = 'w1'): void {
    const seq = this.events.length + 1;
    this.events.push({ seq, worker, prefix: 'p', startMs: Date.now() - 5, stopMs: Date.now(), kind: 'compute' });
    this.finished += 1;
  }
}
