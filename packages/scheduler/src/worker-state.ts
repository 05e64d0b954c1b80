// The scheduler's record of one connected worker: capacity, what it runs and holds, and its own queue of
// ready tasks whose inputs it holds (handed out when it has a free slot, or stolen by an idle peer).
import type { WorkerMetricsReport } from './stimuli.js';
import { TaskHeap } from './task-heap.js';
import type { TaskState } from './task-state.js';

export class WorkerState {
  readonly processing = new Set<TaskState>();
  readonly hasWhat = new Set<TaskState>();
  /** Ready tasks that prefer this worker because it holds most of their input bytes. */
  readonly affinityQueue = new TaskHeap();
  readonly resourcesInUse: Record<string, number> = {};
  /** Sum of the expected run times of `processing`, seconds. */
  occupancy = 0;
  closing = false;
  metrics: WorkerMetricsReport = { managedBytes: 0, spilledBytes: 0, rssBytes: 0, paused: false };

  constructor(
    readonly id: string,
    readonly name: string,
    readonly address: string,
    readonly nthreads: number,
    readonly memoryLimit: number,
    readonly resources: Readonly<Record<string, number>>,
  ) {}

  /** Whether the worker declared enough of every resource to ever run a task needing `required`. */
  canEverRun(required: Readonly<Record<string, number>>): boolean {
    for (const name in required) if ((this.resources[name] ?? 0) < required[name]!) return false;
    return true;
  }

  /** Whether `required` fits in what is free right now. */
  hasFreeResources(required: Readonly<Record<string, number>>): boolean {
    for (const name in required) {
      if ((this.resources[name] ?? 0) - (this.resourcesInUse[name] ?? 0) < required[name]!) return false;
    }
    return true;
  }

  acquireResources(required: Readonly<Record<string, number>>, sign: 1 | -1): void {
    for (const name in required) this.resourcesInUse[name] = (this.resourcesInUse[name] ?? 0) + sign * required[name]!;
  }
}
