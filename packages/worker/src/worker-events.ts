// What goes into the worker state machine (worker-state-machine.ts): everything that can change a task's state on
// this worker, from the scheduler, the task threads, the input loader and the memory manager. Each event carries
// a stimulus id, which the transitions and the instructions it causes are traced under (Dask's stimulus_id).
import type { EncodedValue } from '@loom/protocol';
import type { ThreadResult } from './thread-messages.js';
import type { CancelRequest, SchedulerInstructions, TaskAssignment } from './task-types.js';

interface Stimulus {
  stimulusId: string;
}

/** The scheduler assigned these tasks (in its priority order). */
export interface ComputeEvent extends Stimulus {
  type: 'compute';
  tasks: readonly TaskAssignment[];
}

/** The scheduler no longer wants these assignments. */
export interface CancelEvent extends Stimulus {
  type: 'cancel';
  cancels: readonly CancelRequest[];
}

/** The scheduler releases these results. */
export interface FreeEvent extends Stimulus {
  type: 'free';
  keys: readonly string[];
}

/** The inputs a LoadInputs asked for are here, in dependency order. */
export interface InputsLoadedEvent extends Stimulus {
  type: 'inputs-loaded';
  key: string;
  /** The LoadInputs instruction's `attempt`. */
  attempt: number;
  values: EncodedValue[];
  /**
   * Per value: it sits in memory of its own that nothing else holds (fetched from a peer, read back from disk),
   * so the last task using it may hand its buffer to a thread without a copy. Values from the store's memory are
   * shared and always copied.
   */
  privateValues: readonly boolean[];
}

/** Some inputs a LoadInputs asked for could not be obtained from any holder. */
export interface InputsMissingEvent extends Stimulus {
  type: 'inputs-missing';
  key: string;
  attempt: number;
  missingKeys: string[];
  failedHolders: string[];
}

/** A ReadHeld finished: the held value, or undefined if it could not be read (a missing or corrupt spill file). */
export interface HeldReadEvent extends Stimulus {
  type: 'held-read';
  key: string;
  attempt: number;
  value: EncodedValue | undefined;
}

/**
 * The event loop turned: hand ready tasks to free threads. Dispatch is its own stimulus so tasks that become
 * ready in the same turn travel to a thread in one batch.
 */
export interface DispatchEvent extends Stimulus {
  type: 'dispatch';
}

/** A task thread reported these results; `threadFreed` when that was the end of its batch (it is idle again). */
export interface ExecutedEvent extends Stimulus {
  type: 'executed';
  results: readonly ThreadResult[];
  threadFreed: boolean;
  /** The pool slot of the thread that ran them, from 0. */
  slot: number;
}

/** A thread died before it ran these tasks of its batch; they may run again. */
export interface RequeuedEvent extends Stimulus {
  type: 'requeued';
  tasks: readonly { key: string }[];
}

/** The memory manager paused (or resumed) the worker: while paused no task starts and no input is loaded. */
export interface PauseEvent extends Stimulus {
  type: 'pause';
  paused: boolean;
}

/** The worker is closing: hand back what has not started, let executing tasks finish. */
export interface CloseEvent extends Stimulus {
  type: 'close';
}

export type WorkerEvent =
  | ComputeEvent
  | CancelEvent
  | FreeEvent
  | InputsLoadedEvent
  | InputsMissingEvent
  | HeldReadEvent
  | DispatchEvent
  | ExecutedEvent
  | RequeuedEvent
  | PauseEvent
  | CloseEvent;

/**
 * The events one scheduler message becomes, in an order that cannot lose a re-submitted task. Frees come first:
 * they concern results that existed before the message. Then the computes, then the cancels: a cancel names its
 * run, so one of an earlier run leaves a new assignment alone, and one of a run this message assigned still
 * cancels it.
 */
export function schedulerMessageEvents(message: SchedulerInstructions, stimulusId: string): WorkerEvent[] {
  const events: WorkerEvent[] = [];
  if (message.freeKeys.length > 0) events.push({ type: 'free', keys: message.freeKeys, stimulusId });
  if (message.compute.length > 0) events.push({ type: 'compute', tasks: message.compute, stimulusId });
  if (message.cancel.length > 0) events.push({ type: 'cancel', cancels: message.cancel, stimulusId });
  return events;
}
