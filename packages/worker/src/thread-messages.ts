// The messages between the worker's main thread and its task threads (types only). Both directions carry
// batches: one message starts many tasks, one message reports many results.
import type { CodecName, EncodedValue, LoomErrorCode } from '@loom/protocol';
import type { FunctionSpec } from './task-types.js';
import type { PackedResults, PackedTasks } from './thread-wire.js';

export interface ThreadTask {
  key: string;
  functionId: string;
  args: Uint8Array;
  /** Encoded input values, in dependency order. */
  inputs: readonly EncodedValue[];
  /**
   * Per input: whether this task is its only user (a value fetched for it alone), so the pool may hand its
   * buffer to the thread instead of copying it; that input is detached here once the batch is posted.
   */
  ownedInputs?: readonly boolean[];
}

/**
 * Main → thread: run these tasks in order; `functions` are the definitions this thread has not seen yet.
 * `tasks` is a batch packed by thread-wire.ts (ThreadTask[] once unpacked), its buffers transferred, not cloned.
 */
export interface RunBatchMessage {
  functions: FunctionSpec[];
  tasks: PackedTasks;
}

export interface ThreadTaskError {
  code: LoomErrorCode;
  message: string;
  stack: string;
  errorName: string;
  /** The thrown error's own string `code` (LoomErrorDetails.remoteCode), when it had one. */
  remoteCode?: string;
  /** The step of a fused task that threw (fused-chain.ts); otherwise the task's own key is meant. */
  taskKey?: string;
}

export type ThreadResult =
  | { key: string; ok: true; codec: CodecName; bytes: Uint8Array; durationMs: number }
  | { key: string; ok: false; error: ThreadTaskError; durationMs: number };

/**
 * Thread → main: results in task order, packed by thread-wire.ts; `done` marks the last message of a batch
 * (the thread is idle again).
 */
export interface ResultsMessage {
  results: PackedResults;
  done: boolean;
}

/** Thread → main, once: the thread has loaded (and warmed up) its code and takes batches now. */
export interface ThreadReadyMessage {
  ready: true;
}

/** Shared with each thread at start: a SharedArrayBuffer whose first Int32 is the index of the running task. */
export interface ThreadData {
  progress: SharedArrayBuffer;
}
