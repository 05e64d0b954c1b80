// What goes into the scheduler state machine (stimuli) and what comes out (instructions). Domain types only:
// the gRPC adapters convert wire messages into stimuli and instructions into wire messages. Instructions name
// workers, clients and tasks by id and key (no live objects), so a test can compare whole lists with deepEqual.
import type { FunctionDefinition, TaskError } from './task-state.js';

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

/**
 * The run a report answers: the `runId` of the compute instruction it answers. Run ids start at 1; a report with
 * 0 (a field left unset) answers no run and is ignored as stale.
 */
export type RunId = number;

export interface FinishedTask {
  key: string;
  runId: RunId;
  nbytes: number;
  codec: number;
  durationMs: number;
  /** The worker's task thread that ran it, from 1; 0 when none did (a result the worker already held). */
  thread: number;
  /** The value, when the worker sent it inline. */
  value: Uint8Array | undefined;
}

export interface FailedTask {
  key: string;
  runId: RunId;
  /** The worker's task thread that ran it, from 1; 0 when none did. */
  thread: number;
  error: TaskError;
}

export interface MissingInputs {
  key: string;
  runId: RunId;
  missingKeys: string[];
  /** Addresses of the holders that did not answer or did not have the key. */
  failedHolders: string[];
}

export interface WorkerMetricsReport {
  managedBytes: number;
  spilledBytes: number;
  rssBytes: number;
  paused: boolean;
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
  | ({ type: 'task-failed'; workerId: string } & FailedTask)
  | ({ type: 'missing-inputs'; workerId: string } & MissingInputs)
  | { type: 'keys-lost'; workerId: string; keys: string[] }
  | ({ type: 'worker-metrics'; workerId: string } & WorkerMetricsReport);

export type Stimulus = StimulusEvent & { stimulusId: string };

export type KeyUpdate =
  | { state: 'memory'; key: string; nbytes: number; codec: number; value: Uint8Array | undefined; holders: string[] }
  | { state: 'erred'; key: string; error: TaskError }
  | { state: 'cancelled'; key: string };

/** Side effects the I/O shell carries out, in order; each names the stimulus that caused it. */
export type Instruction =
  | { type: 'compute'; stimulusId: string; workerId: string; key: string; runId: RunId; sendValue: boolean }
  | { type: 'free-keys'; stimulusId: string; workerId: string; keys: string[] }
  /** Drop run `runId` of `key` if the worker still has it (a later run of the same key must survive). */
  | { type: 'cancel-compute'; stimulusId: string; workerId: string; key: string; runId: RunId }
  | { type: 'client-update'; stimulusId: string; clientId: string; update: KeyUpdate };

/** One message from a worker, in domain form. */
export interface WorkerReport {
  finished: FinishedTask[];
  failed: FailedTask[];
  missing: MissingInputs[];
  lostKeys: string[];
  handedBack: string[];
  closing: boolean;
  metrics: WorkerMetricsReport | undefined;
}

/**
 * The stimuli one worker message becomes, in the order the shell applies them: results first (they free slots
 * and make dependents ready), then failures, missing inputs, lost keys, the hand-back, and the heartbeat.
 */
export function stimuliFromWorkerReport(workerId: string, report: WorkerReport): StimulusEvent[] {
  const stimuli: StimulusEvent[] = [];
  if (report.finished.length > 0) stimuli.push({ type: 'tasks-finished', workerId, finished: report.finished });
  for (const failed of report.failed) stimuli.push({ type: 'task-failed', workerId, ...failed });
  for (const missing of report.missing) stimuli.push({ type: 'missing-inputs', workerId, ...missing });
  if (report.lostKeys.length > 0) stimuli.push({ type: 'keys-lost', workerId, keys: report.lostKeys });
  if (report.closing || report.handedBack.length > 0) stimuli.push({ type: 'worker-closing', workerId, handedBack: report.handedBack });
  if (report.metrics) stimuli.push({ type: 'worker-metrics', workerId, ...report.metrics });
  return stimuli;
}
