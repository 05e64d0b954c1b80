// The scheduler's record of one task: its place in the graph, its lifecycle state, where its data lives, and
// who needs it. Plain mutable objects with direct references (no key lookups on hot paths).
import type { ClientState } from './client-state.js';
import type { TaskHeap } from './task-heap.js';
import type { WorkerState } from './worker-state.js';

/** Task lifecycle, after Dask's scheduler (see docs/task-states.md for the diagram). */
export type TaskStateName =
  | 'released' // known, not running, not needed right now
  | 'waiting' // needed; waiting for dependencies to reach memory
  | 'queued' // ready to run; held in a scheduler queue until a worker has a free slot
  | 'no-worker' // ready, but no connected worker can ever run it (resources)
  | 'processing' // sent to a worker
  | 'memory' // result held by at least one worker
  | 'erred' // failed, or a dependency failed
  | 'forgotten'; // dropped from the scheduler

export interface FunctionDefinition {
  id: string;
  name: string;
  source?: string;
  module?: { specifier: string; exportName: string };
  /** A fused chain: the ids of the functions it runs in turn. */
  chain?: string[];
}

export interface TaskError {
  code: string;
  message: string;
  stack: string;
  errorName: string;
  /** The task whose own failure caused this error. */
  taskKey: string;
  worker: string;
  /** The thrown error's own string code ("" when it had none), passed through to the client. */
  remoteCode?: string;
}

/**
 * Statistics shared by every task of one function (keyed by the function's content hash, which is finer than
 * Dask's key prefix: every anonymous function would share the prefix "lambda"), used to size work batches.
 */
export class TaskPrefix {
  /** Exponential moving average of execution time, seconds; undefined until one task finished. */
  durationAverage: number | undefined = undefined;
  nbytesAverage = 0;
  /**
   * Tasks of this kind per state, kept by `SchedulerState.transition` (the dashboard's progress bars read it
   * instead of scanning every task); `forgotten` counts every one ever forgotten.
   */
  readonly states: Record<TaskStateName, number> = { released: 0, waiting: 0, queued: 0, 'no-worker': 0, processing: 0, memory: 0, erred: 0, forgotten: 0 };
  /** Run time workers reported for it, seconds, summed. */
  computeSeconds = 0;
  /** Kinds of task this kind's tasks depend on (the dashboard's graph of task groups). */
  readonly dependsOn = new Set<TaskPrefix>();
  constructor(
    readonly functionId: string,
    /** The function's name, for people. */
    readonly name: string,
  ) {}

  recordDuration(seconds: number): void {
    this.durationAverage = this.durationAverage === undefined ? seconds : 0.5 * this.durationAverage + 0.5 * seconds;
    this.computeSeconds += seconds;
  }
}

export class TaskState {
  state: TaskStateName = 'released';
  readonly dependents = new Set<TaskState>();
  /** Dependencies not yet in memory, while waiting. */
  readonly waitingOn = new Set<TaskState>();
  /** Dependents that need this task's data to run (waiting, queued, no-worker or processing). */
  readonly waiters = new Set<TaskState>();
  readonly whoWants = new Set<ClientState>();
  readonly whoHas = new Set<WorkerState>();
  processingOn: WorkerState | undefined = undefined;
  nbytes = 0;
  retriesLeft: number;
  /** How many workers died while running this task. */
  suspicious = 0;
  error: TaskError | undefined = undefined;
  /** The ready queue holding it while queued (undefined in every other state). */
  queuedIn: TaskHeap | undefined = undefined;
  /** Bumped whenever it enters or leaves a queue; a queue entry with an older stamp is stale (lazy deletion). */
  queueStamp = 0;
  /**
   * The id of its latest assignment to a worker (0: never assigned). A worker's report names the run it answers,
   * so a report of an earlier run (cancelled, or reassigned since) is told apart from the current one.
   */
  runId = 0;
  /** Expected run time charged to the worker's occupancy while processing. */
  expectedSeconds = 0;

  constructor(
    readonly key: string,
    readonly functionId: string,
    readonly args: Uint8Array,
    readonly dependencies: readonly TaskState[],
    /** Higher first. */
    readonly userPriority: number,
    /** Graph submission order: earlier graphs first. */
    readonly generation: number,
    /** Position in the client's graph order: lower first. */
    readonly order: number,
    retries: number,
    readonly resources: Readonly<Record<string, number>> | undefined,
    readonly prefix: TaskPrefix,
  ) {
    this.retriesLeft = retries;
  }

  get isWanted(): boolean {
    return this.whoWants.size > 0 || this.waiters.size > 0;
  }
}

/** True when `a` should run before `b`. */
export function runsBefore(a: TaskState, b: TaskState): boolean {
  if (a.userPriority !== b.userPriority) return a.userPriority > b.userPriority;
  if (a.generation !== b.generation) return a.generation < b.generation;
  return a.order < b.order;
}
