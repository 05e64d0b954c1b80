// What comes out of the worker state machine (worker-state-machine.ts): the I/O its shell (task-runner.ts)
// carries out. Instructions name keys and plain values, never state-machine records, so a test can compare
// whole instruction lists; reports carry the run id of the assignment they answer.
import type { EncodedValue } from '@loom/protocol';
import type { ThreadTask, ThreadTaskError } from './thread-messages.js';
import type { InputLocation } from './task-types.js';

interface Caused {
  /** The stimulus that caused it. */
  stimulusId: string;
}

/** Run these tasks, in order, on one free thread. */
export interface ExecuteInstruction extends Caused {
  type: 'execute';
  tasks: ThreadTask[];
}

/** Obtain these inputs (local store, read back from disk, or fetched from a holder), then feed InputsLoaded/InputsMissing. */
export interface LoadInputsInstruction extends Caused {
  type: 'load-inputs';
  key: string;
  /** Echoed by the answering event; an answer for an attempt that is no longer current is ignored. */
  attempt: number;
  inputs: readonly InputLocation[];
}

/** Read the held value of `key` (it was assigned again), then feed HeldRead. */
export interface ReadHeldInstruction extends Caused {
  type: 'read-held';
  key: string;
  attempt: number;
}

/** Report the task finished; `store`: it is a new result, to put in the store first. */
export interface SendFinishedInstruction extends Caused {
  type: 'send-finished';
  key: string;
  runId: number;
  value: EncodedValue;
  durationMs: number;
  /** The task thread that ran it, from 1; 0 when none did (a result already held). */
  thread: number;
  inline: boolean;
  store: boolean;
}

export interface SendFailedInstruction extends Caused {
  type: 'send-failed';
  key: string;
  runId: number;
  error: ThreadTaskError;
  /** The task thread that ran it, from 1. */
  thread: number;
}

/** The task's inputs could not be obtained: the scheduler recomputes or relocates them. */
export interface SendMissingInstruction extends Caused {
  type: 'send-missing';
  key: string;
  runId: number;
  missingKeys: string[];
  failedHolders: string[];
}

/** Assignments this worker will not run (it is closing). */
export interface HandBackInstruction extends Caused {
  type: 'hand-back';
  keys: string[];
}

/** Drop these results from the store (and their spill files). */
export interface ReleaseInstruction extends Caused {
  type: 'release';
  keys: readonly string[];
}

export type WorkerInstruction =
  | ExecuteInstruction
  | LoadInputsInstruction
  | ReadHeldInstruction
  | SendFinishedInstruction
  | SendFailedInstruction
  | SendMissingInstruction
  | HandBackInstruction
  | ReleaseInstruction;
