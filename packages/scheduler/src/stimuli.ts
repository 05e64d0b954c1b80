// What goes into the scheduler state machine (stimuli) and what comes out (instructions). Domain types only:
// the gRPC adapters convert wire messages into stimuli and instructions into wire messages.
import type { FunctionDefinition, TaskError, TaskState } from './task-state.js';
import type { WorkerState } from './worker-state.js';
import type { ClientState } from './client-state.js';

export interface NewTask {
  key: string;
  functionId: string;
  args: Uint8Array;
  dependencies: string[];
  priority: number;
  order: number;
  retries: number;
  resources: Record<string, number> | undefined;
}

export interface WorkerAnnouncement {
  id: string;
  name: string;
  address: string;
  nthreads: number;
  memoryLimit: number;
  resources: Record<string, number>;
}

export interface FinishedTask {
  key: string;
  nbytes: number;
  codec: number;
  durationMs: number;
  /** The value, when the worker sent it inline. */
  value: Uint8Array | undefined;
}

/** An event without its id; the shell stamps each with a stimulus id for tracing. */
export type StimulusEvent =
  | { type: 'client-connected'; clientId: string; name: string }
  | { type: 'client-disconnected'; clientId: string }
  | { type: 'update-graph'; clientId: string; tasks: NewTask[]; functions: FunctionDefinition[]; wanted: string[] }
  | { type: 'release-keys'; clientId: string; keys: string[] }
  | { type: 'worker-connected'; worker: WorkerAnnouncement }
  | { type: 'worker-removed'; workerId: string; reason: string }
  | { type: 'worker-closing'; workerId: string; handedBack: string[] }
  | { type: 'tasks-finished'; workerId: string; finished: FinishedTask[] }
  | { type: 'task-failed'; workerId: string; key: string; error: TaskError }
  | { type: 'missing-inputs'; workerId: string; key: string; missingKeys: string[]; failedHolders: string[] }
  | { type: 'keys-lost'; workerId: string; keys: string[] }
  | { type: 'worker-metrics'; workerId: string; managedBytes: number; spilledBytes: number; rssBytes: number; paused: boolean };

export type Stimulus = StimulusEvent & { stimulusId: string };

export type KeyUpdate =
  | { state: 'memory'; key: string; nbytes: number; codec: number; value: Uint8Array | undefined; holders: string[] }
  | { state: 'erred'; key: string; error: TaskError }
  | { state: 'cancelled'; key: string };

/** Side effects the I/O shell carries out, in order. */
export type Instruction =
  | { type: 'compute'; worker: WorkerState; task: TaskState; sendValue: boolean }
  | { type: 'free-keys'; worker: WorkerState; keys: string[] }
  | { type: 'cancel-key'; worker: WorkerState; key: string }
  | { type: 'client-update'; client: ClientState; update: KeyUpdate };
