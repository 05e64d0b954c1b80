// The worker's own vocabulary for what the scheduler asks of it and what it reports back. Generated protobuf
// types stop at scheduler-link.ts; everything else in the worker speaks these plain, structured-cloneable shapes.
import type { CodecName, LoomError } from '@loom/protocol';

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
}

export interface SchedulerWelcome {
  workerId: string;
  heartbeatIntervalMs: number;
  inlineValueBytes: number;
}

/** Everything one scheduler message asks for, applied in this field order. */
export interface SchedulerInstructions {
  functions: FunctionSpec[];
  freeKeys: string[];
  compute: TaskAssignment[];
  cancelKeys: string[];
  shutdown: boolean;
}

export interface WorkerIdentity {
  name: string;
  address: string;
  nthreads: number;
  memoryLimit: number;
  resources: Record<string, number>;
  pid: number;
}

export interface TaskFinishedReport {
  key: string;
  nbytes: number;
  codec: CodecName;
  durationMs: number;
  /** The encoded value, when the scheduler asked for it and it is small enough to travel inline. */
  value?: Uint8Array;
}

export interface TaskFailedReport {
  key: string;
  error: LoomError;
}

export interface MissingInputsReport {
  key: string;
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
}

/** Where task outcomes go; the scheduler link implements it, tests may substitute a recorder. */
export interface TaskReporter {
  finished(report: TaskFinishedReport): void;
  failed(report: TaskFailedReport): void;
  missing(report: MissingInputsReport): void;
  handBack(keys: string[]): void;
}
