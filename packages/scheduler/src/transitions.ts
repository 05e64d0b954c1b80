// The scheduler's transition table: every edge a task may take, keyed by (from, to), after Dask's
// _TRANSITIONS_TABLE. `SchedulerState.transition` is the only caller and sets the new state before `apply` runs;
// an edge missing here is an impossible transition. An edge with a guard may be recommended: the guard
// re-checks, when the recommendation is applied later in the same step, that its reason still holds. An edge
// without one is taken only directly, by a stimulus handler that has decided it (a result arrived, a worker was
// chosen). docs/task-states.md draws this table.
import { LoomError } from '@loom/protocol';
import type { ClientState } from './client-state.js';
import type { ReadyQueues } from './ready-queues.js';
import type { FinishedTask, Instruction, RunId } from './stimuli.js';
import type { TaskError, TaskState, TaskStateName } from './task-state.js';
import type { WorkerState } from './worker-state.js';

export interface EdgeArgs {
  /** queued -> processing: the worker it goes to; processing -> memory: the worker that reported it. */
  worker?: WorkerState;
  /** processing -> memory: the report. */
  result?: FinishedTask;
  /** -> erred: the task's own failure (without it, the task inherits the error of its failed dependency). */
  error?: TaskError;
  /** Leaving processing: the worker already let go of the run (reported it, handed it back, or is gone): no cancel. */
  workerLetGo?: boolean;
}

/** What the transitions need of the scheduler state. */
export interface TransitionHost {
  readonly tasks: Map<string, TaskState>;
  readonly queues: ReadyQueues;
  readonly noWorker: Set<TaskState>;
  readonly config: { readonly unknownTaskSeconds: number };
  readonly currentStimulusId: string;
  recommend(task: TaskState, to: TaskStateName): void;
  emit(instruction: Instruction): void;
  emitFree(worker: WorkerState, keys: string[]): void;
  nextRunId(): RunId;
  isConnected(worker: WorkerState): boolean;
  detachFromWorker(task: TaskState): void;
  reportMemory(task: TaskState, client: ClientState, result: FinishedTask | undefined): void;
  readyState(task: TaskState): 'queued' | 'no-worker';
}

export interface Edge {
  /** Whether a recommendation of this edge, applied later, still has its reason; absent: never recommended. */
  guard?: (task: TaskState, host: TransitionHost) => boolean;
  /** Runs with `task.state` already set to the new state. */
  apply: (task: TaskState, host: TransitionHost, from: TaskStateName, args: EdgeArgs) => void;
}

/** Tasks in these states need their dependencies' data. */
export const NEEDS_INPUTS: ReadonlySet<TaskStateName> = new Set(['waiting', 'queued', 'no-worker', 'processing']);

// ---------------------------------------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------------------------------------

const unwanted = (task: TaskState) => !task.isWanted;
const inputsReady = (task: TaskState) => task.waitingOn.size === 0;
const inputLost = (task: TaskState) => task.dependencies.some((dependency) => dependency.state !== 'memory');
const dependencyErred = (task: TaskState) => erredDependency(task) !== undefined;

// ---------------------------------------------------------------------------------------------------------
// Edges
// ---------------------------------------------------------------------------------------------------------

/** released -> waiting, queued/no-worker -> waiting: claim every input; ready at once if all are in memory. */
function waitForInputs(task: TaskState, host: TransitionHost, from: TaskStateName): void {
  if (from !== 'released') leaveReady(task, host, from);
  for (const dependency of task.dependencies) {
    dependency.waiters.add(task);
    if (dependency.state === 'memory') continue;
    task.waitingOn.add(dependency);
    if (dependency.state === 'released') host.recommend(dependency, 'waiting');
  }
  if (dependencyErred(task)) host.recommend(task, 'erred');
  else if (task.waitingOn.size === 0) host.recommend(task, host.readyState(task));
}

function toQueued(task: TaskState, host: TransitionHost, from: TaskStateName): void {
  if (from === 'no-worker') host.noWorker.delete(task);
  host.queues.enqueue(task);
}

function toNoWorker(task: TaskState, host: TransitionHost, from: TaskStateName): void {
  if (from === 'queued') host.queues.dequeue(task);
  host.noWorker.add(task);
}

function queuedToProcessing(task: TaskState, host: TransitionHost, _from: TaskStateName, args: EdgeArgs): void {
  const worker = required(args.worker, 'worker', task);
  host.queues.dequeue(task);
  task.processingOn = worker;
  task.runId = host.nextRunId();
  task.expectedSeconds = task.prefix.durationAverage ?? host.config.unknownTaskSeconds;
  worker.processing.add(task);
  worker.occupancy += task.expectedSeconds;
  if (task.resources !== undefined) worker.acquireResources(task.resources, 1);
  host.emit({
    type: 'compute',
    stimulusId: host.currentStimulusId,
    workerId: worker.id,
    key: task.key,
    runId: task.runId,
    sendValue: task.whoWants.size > 0,
  });
}

function processingToMemory(task: TaskState, host: TransitionHost, _from: TaskStateName, args: EdgeArgs): void {
  const worker = required(args.worker, 'worker', task);
  const result = required(args.result, 'result', task);
  host.detachFromWorker(task);
  task.prefix.recordDuration(result.durationMs / 1000);
  task.nbytes = result.nbytes;
  task.whoHas.add(worker);
  worker.hasWhat.add(task);
  for (const client of task.whoWants) host.reportMemory(task, client, result);
  for (const dependent of task.dependents) {
    if (dependent.state === 'waiting' && dependent.waitingOn.delete(task) && dependent.waitingOn.size === 0) {
      host.recommend(dependent, host.readyState(dependent));
    }
  }
  dropClaimsOnDependencies(task, host);
  if (!task.isWanted) host.recommend(task, 'released');
}

function waitingToReleased(task: TaskState, host: TransitionHost): void {
  task.waitingOn.clear();
  dropClaimsOnDependencies(task, host);
  afterRelease(task, host);
}

function readyToReleased(task: TaskState, host: TransitionHost, from: TaskStateName): void {
  leaveReady(task, host, from);
  dropClaimsOnDependencies(task, host);
  afterRelease(task, host);
}

function processingToReleased(task: TaskState, host: TransitionHost, _from: TaskStateName, args: EdgeArgs): void {
  leaveProcessing(task, host, args);
  dropClaimsOnDependencies(task, host);
  afterRelease(task, host);
}

function memoryToReleased(task: TaskState, host: TransitionHost): void {
  const holders = [...task.whoHas];
  task.whoHas.clear();
  for (const worker of holders) {
    worker.hasWhat.delete(task);
    host.emitFree(worker, [task.key]);
  }
  for (const waiter of task.waiters) {
    if (waiter.state === 'waiting') waiter.waitingOn.add(task);
    else if (waiter.state === 'queued' || waiter.state === 'no-worker') host.recommend(waiter, 'waiting');
    // A processing waiter either fetched the data already or will report it missing.
  }
  afterRelease(task, host);
}

function toErred(task: TaskState, host: TransitionHost, from: TaskStateName, args: EdgeArgs): void {
  if (from === 'processing') leaveProcessing(task, host, args);
  else if (from === 'queued' || from === 'no-worker') leaveReady(task, host, from);
  task.waitingOn.clear();
  const error = args.error ?? erredDependency(task)?.error;
  if (error === undefined) throw new LoomError('INTERNAL', `task '${task.key}' erred without an error of its own or of a dependency`);
  task.error = error;
  dropClaimsOnDependencies(task, host);
  for (const client of task.whoWants) {
    host.emit({ type: 'client-update', stimulusId: host.currentStimulusId, clientId: client.id, update: { state: 'erred', key: task.key, error } });
  }
  for (const dependent of task.dependents) if (NEEDS_INPUTS.has(dependent.state)) host.recommend(dependent, 'erred');
}

function erredToReleased(task: TaskState, host: TransitionHost): void {
  task.error = undefined;
  afterRelease(task, host);
}

function releasedToForgotten(task: TaskState, host: TransitionHost): void {
  host.tasks.delete(task.key);
  for (const dependency of task.dependencies) {
    dependency.dependents.delete(task);
    if (dependency.isWanted || dependency.dependents.size > 0) continue;
    if (dependency.state === 'released') host.recommend(dependency, 'forgotten');
    else if (dependency.state === 'erred') host.recommend(dependency, 'released');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Bookkeeping shared by edges
// ---------------------------------------------------------------------------------------------------------

/** After reaching 'released': compute again if still needed, else forget when nothing refers to it. */
function afterRelease(task: TaskState, host: TransitionHost): void {
  if (task.isWanted) host.recommend(task, 'waiting');
  else if (task.dependents.size === 0) host.recommend(task, 'forgotten');
}

/** The task no longer needs its inputs: dependencies nobody else needs are released. */
function dropClaimsOnDependencies(task: TaskState, host: TransitionHost): void {
  for (const dependency of task.dependencies) {
    if (dependency.waiters.delete(task) && !dependency.isWanted && dependency.state !== 'released') {
      host.recommend(dependency, 'released');
    }
  }
}

function leaveReady(task: TaskState, host: TransitionHost, from: TaskStateName): void {
  if (from === 'no-worker') host.noWorker.delete(task);
  else host.queues.dequeue(task);
}

/** Takes the task off its worker, telling the worker to drop the run unless it already let go of it. */
function leaveProcessing(task: TaskState, host: TransitionHost, args: EdgeArgs): void {
  const worker = task.processingOn;
  host.detachFromWorker(task);
  if (worker === undefined || args.workerLetGo || !host.isConnected(worker)) return;
  host.emit({ type: 'cancel-compute', stimulusId: host.currentStimulusId, workerId: worker.id, key: task.key, runId: task.runId });
}

function erredDependency(task: TaskState): TaskState | undefined {
  return task.dependencies.find((dependency) => dependency.state === 'erred');
}

function required<T>(value: T | undefined, name: string, task: TaskState): T {
  if (value === undefined) throw new LoomError('INTERNAL', `the transition of task '${task.key}' to ${task.state} needs its ${name}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------------------

export const TRANSITIONS: Readonly<Record<TaskStateName, Readonly<Partial<Record<TaskStateName, Edge>>>>> = {
  released: {
    waiting: { guard: (task) => task.isWanted, apply: waitForInputs },
    forgotten: { guard: (task) => !task.isWanted && task.dependents.size === 0, apply: releasedToForgotten },
  },
  waiting: {
    queued: { guard: inputsReady, apply: toQueued },
    'no-worker': { guard: inputsReady, apply: toNoWorker },
    released: { guard: unwanted, apply: waitingToReleased },
    erred: { guard: dependencyErred, apply: toErred },
  },
  queued: {
    processing: { apply: queuedToProcessing },
    'no-worker': { apply: toNoWorker },
    waiting: { guard: inputLost, apply: waitForInputs },
    released: { guard: unwanted, apply: readyToReleased },
    erred: { guard: dependencyErred, apply: toErred },
  },
  'no-worker': {
    queued: { guard: (task, host) => host.readyState(task) === 'queued', apply: toQueued },
    waiting: { guard: inputLost, apply: waitForInputs },
    released: { guard: unwanted, apply: readyToReleased },
    erred: { guard: dependencyErred, apply: toErred },
  },
  processing: {
    memory: { apply: processingToMemory },
    released: { guard: unwanted, apply: processingToReleased },
    erred: { guard: dependencyErred, apply: toErred },
  },
  memory: {
    released: { guard: (task) => !task.isWanted || task.whoHas.size === 0, apply: memoryToReleased },
  },
  erred: {
    released: { guard: unwanted, apply: erredToReleased },
  },
  forgotten: {},
};
