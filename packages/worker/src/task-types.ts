// The worker's own vocabulary for what the scheduler asks of it and what it reports back. Generated protobuf
// types stop at scheduler-link.ts; everything else in the worker speaks these plain, structured-cloneable shapes.
import type { EncodedValue, LoomError } from '@loom/protocol';
import type { ActivityKind } from './worker-activity.js';

/** A loaded task function: what a FunctionSpec becomes inside a task thread. */
export type TaskFunction = (...args: unknown[]) => unknown;

/**
 * A function tasks call: source text compiled in the task thread, an export of a module the thread imports, or a
 * fused chain of such functions.
 */
export interface FunctionSpec {
  id: string;
  name: string;
  body:
    | { kind: 'source'; source: string }
    | { kind: 'module'; specifier: string; exportName: string }
    /** A fused chain (loom.proto's FusedChain): these functions in turn, each result feeding the next. */
    | { kind: 'chain'; functionIds: string[] };
}

export interface InputLocation {
  key: string;
  nbytes: number;
  /** Worker addresses holding the value; may include this worker's own address. */
  holders: string[];
}

/** One task the scheduler assigned to this worker. */
export interface TaskAssignment {
  key: string;
  functionId: string;
  /** The task-args encoding from @loom/protocol; the thread fills its holes with the input values. */
  args: Uint8Array;
  /** One per dependency, in dependency order. */
  inputs: InputLocation[];
  /** A client waits for this key: report the value inline when it is small enough. */
  sendValue: boolean;
  /**
   * The scheduler's id for this assignment of the key, echoed in every report about it, so a report of an
   * earlier assignment (or a cancel of one) cannot be taken for this one.
   */
  runId: number;
}

/** Cancel the assignment `runId` of `key` (a newer assignment of the key is left alone). */
export interface CancelRequest {
  key: string;
  runId: number;
}

export interface SchedulerWelcome {
  workerId: string;
  heartbeatIntervalMs: number;
  inlineValueBytes: number;
  /** The largest message the scheduler accepts (0: it did not say); reports are split below it. */
  maxMessageBytes: number;
}

/** Everything one scheduler message asks for (the task runner's `apply` says in which order). */
export interface SchedulerInstructions {
  functions: FunctionSpec[];
  freeKeys: string[];
  compute: TaskAssignment[];
  /** Cancels naming the run they cancel. */
  cancel: CancelRequest[];
  shutdown: boolean;
}

export interface WorkerIdentity {
  name: string;
  address: string;
  nthreads: number;
  memoryLimit: number;
  resources: Record<string, number>;
  pid: number;
  /** Fractions of memoryLimit; 0 where a threshold is off. */
  thresholds: { target: number; spill: number; pause: number; terminate: number };
}

export interface TaskFinishedReport {
  key: string;
  /** The assignment this answers (TaskAssignment.runId). */
  runId: number;
  /** The result as held: its byte length is the size reported. */
  value: EncodedValue;
  durationMs: number;
  /** The task thread that ran it, from 1; 0 when none did. */
  thread: number;
  /** The scheduler asked for the value and it is small enough: it travels inline. */
  inline: boolean;
}

export interface TaskFailedReport {
  key: string;
  runId: number;
  /** The task thread that ran it, from 1; 0 when none did. */
  thread: number;
  error: LoomError;
}

export interface MissingInputsReport {
  key: string;
  runId: number;
  missingKeys: string[];
  failedHolders: string[];
}

export interface WorkerMetrics {
  managedBytes: number;
  spilledBytes: number;
  rssBytes: number;
  executing: number;
  ready: number;
  paused: boolean;
  spillWriteBytesTotal: number;
  spillReadBytesTotal: number;
  transferIncomingBytesTotal: number;
  transferOutgoingBytesTotal: number;
  /** Transfers open now (worker-activity.ts TransfersInFlight). */
  transferIncomingCalls: number;
  transferIncomingBytes: number;
  transferOutgoingCalls: number;
  transferOutgoingBytes: number;
  /** Transfers and spill I/O since the previous heartbeat, timed back from this one. */
  activity: WorkerActivityReport[];
  activityDropped: number;
  /** This process's log lines since the previous heartbeat (worker-log.ts), and how many did not fit. */
  logs: WorkerLogReport[];
  logsDropped: number;
}

export interface WorkerLogReport {
  /** pino's level number. */
  level: number;
  msAgo: number;
  msg: string;
  /** The record's other fields as JSON text; '' when it has none. */
  fields: string;
}

export interface WorkerActivityReport {
  kind: ActivityKind;
  startedMsAgo: number;
  durationMs: number;
  bytes: number;
  peer?: string;
}

/** Where task outcomes go; the scheduler link implements it, tests may substitute a recorder. */
export interface TaskReporter {
  finished(report: TaskFinishedReport): void;
  failed(report: TaskFailedReport): void;
  missing(report: MissingInputsReport): void;
  handBack(keys: string[]): void;
}
