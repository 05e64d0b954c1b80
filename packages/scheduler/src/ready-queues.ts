// Where ready (`queued`) tasks wait until a worker has a free slot, and which one a given worker takes next: the
// root queue, per-worker affinity queues (tasks whose input bytes mostly live on that worker), and the
// restricted queue (tasks that need resources). An idle worker steals from the longest affinity queue.
import { TaskHeap } from './task-heap.js';
import { runsBefore, type TaskState } from './task-state.js';
import type { WorkerState } from './worker-state.js';

/** How far down the restricted queue a worker looks for a task whose resources fit. */
export const RESTRICTED_LOOKAHEAD = 32;

export class ReadyQueues {
  /** Unrestricted ready tasks with no worker preference. */
  readonly root = new TaskHeap();
  /** Ready tasks that need resources (e.g. GPU). */
  readonly restricted = new TaskHeap();

  constructor(private readonly workers: ReadonlyMap<string, WorkerState>) {}

  /** Queues a task that just became ready where the worker best placed to run it will look first. */
  enqueue(task: TaskState): void {
    if (task.resources !== undefined) this.restricted.push(task);
    else if (task.dependencies.length === 0) this.root.push(task);
    else (preferredWorker(task)?.affinityQueue ?? this.root).push(task);
  }

  /** Takes a task out of whichever queue holds it. */
  dequeue(task: TaskState): void {
    task.queuedIn?.remove(task);
  }

  /** A leaving (closing or removed) worker's queue goes to the root queue, for anyone to take. */
  rehome(worker: WorkerState): void {
    for (const task of worker.affinityQueue.drain()) this.root.push(task);
  }

  /** Takes the highest-priority task this worker may run: its own queue, the shared queue, or stolen from a peer. */
  takeFor(worker: WorkerState): TaskState | undefined {
    if (this.restricted.size > 0 && Object.keys(worker.resources).length > 0) {
      const restricted = this.takeRestrictedFor(worker);
      if (restricted !== undefined) return restricted;
    }
    const own = worker.affinityQueue.peek();
    const shared = this.root.peek();
    if (own !== undefined && (shared === undefined || runsBefore(own, shared))) return worker.affinityQueue.pop();
    if (shared !== undefined) return this.root.pop();
    return this.stealFor(worker);
  }

  /** Takes the first restricted task (in priority order, looking a bounded way down) whose resources fit. */
  private takeRestrictedFor(worker: WorkerState): TaskState | undefined {
    const skipped: TaskState[] = [];
    let found: TaskState | undefined;
    while (skipped.length < RESTRICTED_LOOKAHEAD) {
      const task = this.restricted.pop();
      if (task === undefined) break;
      if (worker.hasFreeResources(task.resources!)) {
        found = task;
        break;
      }
      skipped.push(task);
    }
    for (const task of skipped) this.restricted.push(task);
    return found;
  }

  /** An idle worker takes work queued for the worker with the longest queue rather than sit idle. */
  private stealFor(thief: WorkerState): TaskState | undefined {
    let victim: WorkerState | undefined;
    for (const worker of this.workers.values()) {
      if (worker !== thief && worker.affinityQueue.size > (victim?.affinityQueue.size ?? 0)) victim = worker;
    }
    return victim?.affinityQueue.pop();
  }
}

/** The worker holding the most input bytes (ties: the least busy); undefined when inputs live nowhere usable. */
function preferredWorker(task: TaskState): WorkerState | undefined {
  if (task.dependencies.length === 1) {
    for (const worker of task.dependencies[0]!.whoHas) if (!worker.closing) return worker;
    return undefined;
  }
  const bytes = new Map<WorkerState, number>();
  for (const dependency of task.dependencies) {
    for (const worker of dependency.whoHas) {
      if (!worker.closing) bytes.set(worker, (bytes.get(worker) ?? 0) + dependency.nbytes + 1);
    }
  }
  let best: WorkerState | undefined;
  let bestBytes = -1;
  for (const [worker, held] of bytes) {
    if (held > bestBytes || (held === bestBytes && best !== undefined && worker.processing.size < best.processing.size)) {
      best = worker;
      bestBytes = held;
    }
  }
  return best;
}
