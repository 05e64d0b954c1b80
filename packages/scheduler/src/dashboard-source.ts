// The scheduler's side of the dashboard: reads what the state machine keeps anyway (workers and their last
// heartbeat, per-kind state counts, the task-activity ring) into the dashboard's plain snapshot types. Its cost
// grows with workers and kinds of task, never with tasks: nothing here walks the task map.
import type {
  DashboardSource,
  DashboardSnapshot,
  MemoryThresholds,
  PrefixView,
  SnapshotLimits,
  TaskEvent,
  TaskFailureView,
  TaskStateName,
  WorkerLogsView,
  WorkerView,
} from '@loom/dashboard';
import { logLevelName } from '@loom/protocol';
import type { SchedulerState } from './scheduler-state.js';
import type { TaskPrefix } from './task-state.js';
import { NO_IO, type WorkerTelemetry } from './worker-telemetry.js';

/** The worker's defaults (@loom/worker memory-manager.ts), for a worker that does not report its own. */
const WORKER_DEFAULT_THRESHOLDS: MemoryThresholds = { target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95 };
/** A kind of task stays on the pages this long after its last live task is gone, so its bar can show it finished. */
const KEEP_IDLE_PREFIX_MS = 60_000;

export class SchedulerDashboardSource implements DashboardSource {
  /** When each kind of task last had live tasks, as seen by a snapshot. */
  private readonly lastLive = new Map<TaskPrefix, number>();

  constructor(
    private readonly state: SchedulerState,
    /** A worker's last message time, thresholds, I/O totals and recent logs, from the shell. */
    private readonly telemetry: (workerId: string) => WorkerTelemetry | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  snapshot(limits: SnapshotLimits): Omit<DashboardSnapshot, 'tasksPerSecond'> {
    const atMs = this.now();
    const workers: WorkerView[] = [];
    let threads = 0;
    let memoryLimitBytes = 0;
    let managedBytes = 0;
    let spilledBytes = 0;
    let rssBytes = 0;
    for (const worker of this.state.workers.values()) {
      const { metrics } = worker;
      threads += worker.nthreads;
      memoryLimitBytes += worker.memoryLimit;
      managedBytes += metrics.managedBytes;
      spilledBytes += metrics.spilledBytes;
      rssBytes += metrics.rssBytes;
      if (workers.length >= limits.workers) continue;
      const telemetry = this.telemetry(worker.id);
      const io = telemetry?.io ?? NO_IO;
      workers.push({
        id: worker.id,
        name: worker.name,
        address: worker.address,
        nthreads: worker.nthreads,
        resources: { ...worker.resources },
        memoryLimit: worker.memoryLimit,
        managedBytes: metrics.managedBytes,
        unmanagedBytes: Math.max(0, metrics.rssBytes - metrics.managedBytes),
        spilledBytes: metrics.spilledBytes,
        rssBytes: metrics.rssBytes,
        paused: metrics.paused,
        closing: worker.closing,
        processing: worker.processing.size,
        inMemory: worker.hasWhat.size,
        lastSeenMsAgo: Math.max(0, atMs - (telemetry?.lastSeen ?? atMs)),
        thresholds: telemetry?.thresholds ?? WORKER_DEFAULT_THRESHOLDS,
        spillWriteBytesTotal: io.spillWriteBytesTotal,
        spillReadBytesTotal: io.spillReadBytesTotal,
        transferIncomingBytesTotal: io.transferIncomingBytesTotal,
        transferOutgoingBytesTotal: io.transferOutgoingBytesTotal,
        transferIncomingCalls: io.transferIncomingCalls,
        transferIncomingBytes: io.transferIncomingBytes,
        transferOutgoingCalls: io.transferOutgoingCalls,
        transferOutgoingBytes: io.transferOutgoingBytes,
      });
    }
    const taskCounts: Record<TaskStateName, number> = { released: 0, waiting: 0, queued: 0, 'no-worker': 0, processing: 0, memory: 0, erred: 0, forgotten: 0 };
    let computeSecondsTotal = 0;
    const live: TaskPrefix[] = [];
    for (const prefix of this.state.prefixes.values()) {
      let liveTasks = 0;
      for (const name in prefix.states) {
        const count = prefix.states[name as TaskStateName];
        taskCounts[name as TaskStateName] += count;
        if (name !== 'forgotten') liveTasks += count;
      }
      computeSecondsTotal += prefix.computeSeconds;
      if (liveTasks > 0) this.lastLive.set(prefix, atMs);
      const seen = this.lastLive.get(prefix);
      if (seen === undefined) continue;
      if (atMs - seen <= KEEP_IDLE_PREFIX_MS) live.push(prefix);
      else this.lastLive.delete(prefix);
    }
    // The groups with most live tasks first; a long-lived scheduler knows many kinds, but few run at once.
    live.sort((a, b) => liveCount(b) - liveCount(a));
    const prefixes = live.slice(0, limits.prefixes).map(prefixView);
    const { forgotten, ...liveCounts } = taskCounts;
    return {
      atMs,
      totals: {
        workers: this.state.workers.size,
        threads,
        clients: this.state.clients.size,
        tasks: Object.values(liveCounts).reduce((sum, count) => sum + count, 0),
        memoryLimitBytes,
        managedBytes,
        spilledBytes,
        rssBytes,
        finishedTotal: this.state.activity.finishedTotal,
        erredTotal: this.state.activity.failedRunsTotal,
        forgottenTotal: forgotten,
        computeSecondsTotal,
      },
      taskCounts,
      thresholds: workers[0]?.thresholds ?? WORKER_DEFAULT_THRESHOLDS,
      workers,
      workersOmitted: this.state.workers.size - workers.length,
      prefixes,
      prefixesOmitted: live.length - prefixes.length,
    };
  }

  taskEvents(afterSeq: number, limit: number): TaskEvent[] {
    return this.state.activity.eventsAfter(afterSeq, limit).map((event) => ({
      seq: event.seq,
      worker: event.worker,
      thread: event.thread,
      // Transfers and spill I/O belong to no task: their kind stands in for the prefix (and its colour).
      prefix: event.prefix?.functionId ?? event.kind,
      name: event.prefix?.name ?? event.kind,
      startMs: event.startMs,
      stopMs: event.stopMs,
      kind: event.kind,
    }));
  }

  failures(limit: number): TaskFailureView[] {
    return this.state.activity.recentFailures(limit).map((failure) => ({
      seq: failure.seq,
      key: failure.key,
      prefix: failure.prefix.functionId,
      worker: failure.worker,
      atMs: failure.atMs,
      code: failure.code,
      message: failure.message,
    }));
  }

  workerLogs(workerId: string): WorkerLogsView {
    const logs = this.telemetry(workerId)?.logs;
    if (logs === undefined) return { lines: [], dropped: 0 };
    return {
      lines: logs.lines().map(({ seq, timeMs, level, msg, fields }) => ({ seq, timeMs, level: logLevelName(level), msg, fields })),
      dropped: logs.droppedTotal,
    };
  }
}

function liveCount(prefix: TaskPrefix): number {
  return prefix.states.released + prefix.states.waiting + prefix.states.queued + prefix.states['no-worker'] + prefix.states.processing + prefix.states.memory + prefix.states.erred;
}

function prefixView(prefix: TaskPrefix): PrefixView {
  return {
    id: prefix.functionId,
    name: prefix.name,
    states: { ...prefix.states },
    computeSeconds: prefix.computeSeconds,
    dependsOn: [...prefix.dependsOn].map((dependency) => dependency.functionId),
  };
}
