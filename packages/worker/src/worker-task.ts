// A task's record on the worker and the states it may pass through (worker-state-machine.ts moves it; the table
// below is the only way it may move).
import type { EncodedValue } from '@loom/protocol';
import type { TaskAssignment } from './task-types.js';

/** 'released' only between a record's creation and its first placement, within one event. */
export type WorkerTaskState = 'released' | 'reading-held' | 'waiting' | 'fetching' | 'ready' | 'executing' | 'cancelled';

/** Where a task may go from each state; anything else is a bug and throws. Every state may be forgotten. */
export const TRANSITIONS: Readonly<Record<WorkerTaskState, readonly WorkerTaskState[]>> = {
  released: ['reading-held', 'waiting', 'fetching', 'ready'],
  'reading-held': ['waiting', 'fetching', 'ready'],
  waiting: ['fetching', 'ready'],
  fetching: ['ready'],
  ready: ['executing'],
  executing: ['cancelled', 'waiting', 'fetching', 'ready'],
  cancelled: ['executing'],
};

export interface WorkerTask {
  /** The latest assignment of the key: its run id is the one reports answer. */
  task: TaskAssignment;
  /** Arrival order (tasks start in the order the scheduler sent them); also this record's load attempt id. */
  readonly seq: number;
  state: WorkerTaskState;
  /** Loaded inputs: held while ready, and while executing if they can serve again after a requeue. */
  inputs: readonly EncodedValue[] | undefined;
  /**
   * Dispatched with a private input: its own, which its thread took (detached here), or shared, which a task
   * dispatched later may hand to its thread. Either way the buffer cannot be trusted if this task is requeued
   * after a thread death: it loads its inputs again.
   */
  reloadIfRequeued: boolean;
  /** Bytes of inputs it loads and holds until dispatched, counted in the load budget. */
  loadBytes: number;
}
