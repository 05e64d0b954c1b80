// What the dashboard shows, as plain data: the contract between the process that runs the cluster (the scheduler
// implements DashboardSource from counters it keeps anyway) and the server that turns it into pages, JSON and
// Prometheus text. Every list here is capped by the source, so a snapshot stays small whatever the graph.

/** Task states as the scheduler names them. */
export const TASK_STATES = ['released', 'waiting', 'queued', 'no-worker', 'processing', 'memory', 'erred', 'forgotten'] as const;
export type TaskStateName = (typeof TASK_STATES)[number];

/** Memory fractions of a worker's limit, as the worker reports them (0 where a threshold is off). */
export interface MemoryThresholds {
  target: number;
  spill: number;
  pause: number;
  terminate: number;
}

export interface WorkerView {
  id: string;
  name: string;
  address: string;
  nthreads: number;
  resources: Record<string, number>;
  memoryLimit: number;
  /** Bytes of results held in memory. */
  managedBytes: number;
  /** Process RSS beyond the managed bytes (interpreter, buffers, fragmentation). */
  unmanagedBytes: number;
  spilledBytes: number;
  rssBytes: number;
  paused: boolean;
  closing: boolean;
  /** Tasks sent to it and not yet reported back. */
  processing: number;
  /** Results it holds. */
  inMemory: number;
  /** Milliseconds since its last message (heartbeat or report). */
  lastSeenMsAgo: number;
  /** Its memory policy (the worker defaults for a worker that does not report one). */
  thresholds: MemoryThresholds;
  /** Byte totals since it started: results written to and read back from spill, fetched from and sent to peers. */
  spillWriteBytesTotal: number;
  spillReadBytesTotal: number;
  transferIncomingBytesTotal: number;
  transferOutgoingBytesTotal: number;
  /** Transfers open at its last heartbeat: GetData calls it waits on and the bytes they have yet to deliver... */
  transferIncomingCalls: number;
  transferIncomingBytes: number;
  /** ...and calls it answers with the bytes they have yet to send. */
  transferOutgoingCalls: number;
  transferOutgoingBytes: number;
}

export interface PrefixView {
  /** Stable id of the group (the function's content hash). */
  id: string;
  /** The function's name. */
  name: string;
  /** Tasks per state; `forgotten` counts every task of the group ever forgotten. */
  states: Record<TaskStateName, number>;
  /** Seconds of task run time reported by workers, summed. */
  computeSeconds: number;
  /** Ids of the groups whose tasks this group's tasks depend on. */
  dependsOn: string[];
}

/** The order is the wire's: a packed event's kind is its index here. */
export const TASK_EVENT_KINDS = ['compute', 'error', 'transfer', 'spill-read', 'spill-write'] as const;
export type TaskEventKind = (typeof TASK_EVENT_KINDS)[number];

/**
 * One rectangle of the task stream: a task that finished (or failed) on a worker, or a transfer or spill read or
 * write there (whose `prefix` is its kind).
 */
export interface TaskEvent {
  /** Increases by one per event, across the whole run: a viewer asks for events after the last it has. */
  seq: number;
  worker: string;
  /** The worker's task thread, from 1 (one task-stream row each); 0 for transfers and spill I/O (the worker's I/O row). */
  thread: number;
  /** The task group's id (the function's content hash), or the kind for transfers and spill I/O. */
  prefix: string;
  /** The function's name, for people and tools (the pages name groups from the snapshot's prefixes). */
  name: string;
  /** Epoch milliseconds: the report's arrival minus the run time the worker measured (or the span's start). */
  startMs: number;
  stopMs: number;
  kind: TaskEventKind;
}

export interface TaskFailureView {
  seq: number;
  key: string;
  prefix: string;
  worker: string;
  atMs: number;
  code: string;
  message: string;
}

/** pino's level names, from its level numbers (10 trace ... 60 fatal). */
export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** One line of a worker's own log, as its heartbeats brought it to the scheduler. */
export interface WorkerLogView {
  /** Increases by one per line of the worker's session: rows are keyed by it. */
  seq: number;
  /** Epoch milliseconds on the scheduler's clock (the heartbeat's arrival minus the line's age). */
  timeMs: number;
  /** A pino level name, or the number as text for a level pino does not name. */
  level: LogLevelName | string;
  msg: string;
  /** The record's other fields as JSON text ('' when none), cut at 2 KiB by the worker (then it no longer parses). */
  fields: string;
}

export interface WorkerLogsView {
  /** The newest few hundred lines, oldest first. */
  lines: WorkerLogView[];
  /** Lines the worker logged but could not send (more than a heartbeat carries). */
  dropped: number;
}

export interface ClusterTotals {
  workers: number;
  threads: number;
  clients: number;
  /** Live tasks (every state but forgotten). */
  tasks: number;
  memoryLimitBytes: number;
  managedBytes: number;
  spilledBytes: number;
  rssBytes: number;
  /** Cumulative counters since the scheduler started. */
  finishedTotal: number;
  erredTotal: number;
  forgottenTotal: number;
  computeSecondsTotal: number;
}

export interface DashboardSnapshot {
  /** Epoch milliseconds when it was taken. */
  atMs: number;
  /** Tasks finished per second since the previous snapshot (0 for the first). */
  tasksPerSecond: number;
  totals: ClusterTotals;
  taskCounts: Record<TaskStateName, number>;
  /** The first worker's (all workers of a cluster usually share them); the worker defaults with no worker. */
  thresholds: MemoryThresholds;
  workers: WorkerView[];
  /** How many workers there are beyond `workers` (the list is capped). */
  workersOmitted: number;
  prefixes: PrefixView[];
  prefixesOmitted: number;
}

/** What the dashboard reads; implemented by the scheduler. Calls must be cheap: no walk over all tasks. */
export interface DashboardSource {
  /** The cluster now, with at most `limits.workers` workers and `limits.prefixes` groups. */
  snapshot(limits: SnapshotLimits): Omit<DashboardSnapshot, 'tasksPerSecond'>;
  /** Task-stream events with `seq > afterSeq`, oldest first, at most `limit` (the newest ones if there are more). */
  taskEvents(afterSeq: number, limit: number): TaskEvent[];
  /** The most recent task failures, newest last. */
  failures(limit: number): TaskFailureView[];
  /** A connected worker's recent log lines; none for a worker that is not connected. */
  workerLogs(workerId: string): WorkerLogsView;
}

export interface SnapshotLimits {
  workers: number;
  prefixes: number;
}

export function emptyStateCounts(): Record<TaskStateName, number> {
  return { released: 0, waiting: 0, queued: 0, 'no-worker': 0, processing: 0, memory: 0, erred: 0, forgotten: 0 };
}
