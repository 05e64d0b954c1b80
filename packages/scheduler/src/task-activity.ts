// What the dashboard's task stream and totals read: a fixed-size ring of recent task events (who ran what, when)
// and a few running totals, fed by the state machine as reports arrive. Each push is O(1) and allocates nothing
// (parallel arrays overwritten in place), so keeping it costs the hot path a few stores per task; readers copy
// out what they need on their own timer.
import type { TaskPrefix } from './task-state.js';

/** What a worker moves besides running tasks (reported with its heartbeat). */
export type ActivityKind = 'transfer' | 'spill-read' | 'spill-write';
export type TaskEventKind = 'compute' | 'error' | ActivityKind;

export interface TaskEventRecord {
  seq: number;
  worker: string;
  /** The worker's task thread, from 1; 0 for what no task thread did (transfers, spill I/O, held results). */
  thread: number;
  /** The task's kind; undefined for transfers and spill I/O, which belong to no task. */
  prefix: TaskPrefix | undefined;
  startMs: number;
  stopMs: number;
  kind: TaskEventKind;
}

export interface TaskFailureRecord {
  seq: number;
  key: string;
  prefix: TaskPrefix;
  worker: string;
  atMs: number;
  code: string;
  message: string;
}

/** Enough for the few thousand rectangles a task stream shows, and for a viewer's delta between two updates. */
export const DEFAULT_EVENT_CAPACITY = 8192;
const FAILURE_CAPACITY = 64;
/** A failure's rectangle is drawn this wide (the worker does not report how long a failed run took). */
const FAILURE_WIDTH_MS = 1;
/** Event kinds as stored in the ring, indexed by their number. */
const KINDS: readonly TaskEventKind[] = ['compute', 'error', 'transfer', 'spill-read', 'spill-write'];
const KIND_COMPUTE = 0;
const KIND_ERROR = 1;

export class TaskActivity {
  /** Tasks that reached memory, ever. */
  finishedTotal = 0;
  /** Task runs that failed (retried or not), ever. */
  failedRunsTotal = 0;
  /** Sequence number of the newest event (0: none yet). */
  private lastSeq = 0;
  private readonly workers: string[];
  private readonly threads: Uint16Array;
  private readonly prefixes: (TaskPrefix | undefined)[];
  private readonly starts: Float64Array;
  private readonly stops: Float64Array;
  private readonly kinds: Uint8Array;
  private readonly failureRing: (TaskFailureRecord | undefined)[] = new Array<TaskFailureRecord | undefined>(FAILURE_CAPACITY);
  private failureCount = 0;

  constructor(
    readonly capacity = DEFAULT_EVENT_CAPACITY,
    /** Epoch milliseconds; a test passes its own clock. */
    readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`the task-event capacity must be a positive integer, got ${capacity}`);
    this.workers = new Array<string>(capacity).fill('');
    this.threads = new Uint16Array(capacity);
    this.prefixes = new Array<TaskPrefix | undefined>(capacity).fill(undefined);
    this.starts = new Float64Array(capacity);
    this.stops = new Float64Array(capacity);
    this.kinds = new Uint8Array(capacity);
  }

  /** A task's result arrived at `atMs` after a run of `durationMs` on `worker`'s task thread `thread`. */
  finished(worker: string, thread: number, prefix: TaskPrefix, durationMs: number, atMs: number): void {
    this.finishedTotal += 1;
    this.push(worker, thread, prefix, atMs - Math.max(0, durationMs), atMs, KIND_COMPUTE);
  }

  /** A run of `key` failed on `worker`'s task thread `thread` (whether or not it will be retried). */
  failed(worker: string, thread: number, key: string, prefix: TaskPrefix, error: { code: string; message: string }, atMs: number): void {
    this.failedRunsTotal += 1;
    const seq = this.push(worker, thread, prefix, atMs - FAILURE_WIDTH_MS, atMs, KIND_ERROR);
    this.failureRing[this.failureCount % FAILURE_CAPACITY] = { seq, key, prefix, worker, atMs, code: error.code, message: error.message };
    this.failureCount += 1;
  }

  /** A transfer or a spill read or write on `worker`, from `startMs` to `stopMs`. */
  workerActivity(worker: string, kind: ActivityKind, startMs: number, stopMs: number): void {
    this.push(worker, 0, undefined, startMs, stopMs, KINDS.indexOf(kind));
  }

  get newestSeq(): number {
    return this.lastSeq;
  }

  /** Events with `seq > afterSeq` still in the ring, oldest first; at most `limit`, the newest ones if more. */
  eventsAfter(afterSeq: number, limit: number): TaskEventRecord[] {
    const oldestKept = Math.max(1, this.lastSeq - this.capacity + 1);
    const from = Math.max(afterSeq + 1, oldestKept, this.lastSeq - limit + 1);
    const events: TaskEventRecord[] = [];
    for (let seq = from; seq <= this.lastSeq; seq++) {
      const slot = (seq - 1) % this.capacity;
      events.push({
        seq,
        worker: this.workers[slot]!,
        thread: this.threads[slot]!,
        prefix: this.prefixes[slot],
        startMs: this.starts[slot]!,
        stopMs: this.stops[slot]!,
        kind: KINDS[this.kinds[slot]!]!,
      });
    }
    return events;
  }

  /** The most recent failures, oldest first, at most `limit`. */
  recentFailures(limit: number): TaskFailureRecord[] {
    const count = Math.min(limit, this.failureCount, FAILURE_CAPACITY);
    const failures: TaskFailureRecord[] = [];
    for (let i = this.failureCount - count; i < this.failureCount; i++) failures.push(this.failureRing[i % FAILURE_CAPACITY]!);
    return failures;
  }

  private push(worker: string, thread: number, prefix: TaskPrefix | undefined, startMs: number, stopMs: number, kind: number): number {
    const seq = ++this.lastSeq;
    const slot = (seq - 1) % this.capacity;
    this.workers[slot] = worker;
    this.threads[slot] = thread;
    this.prefixes[slot] = prefix;
    this.starts[slot] = startMs;
    this.stops[slot] = stopMs;
    this.kinds[slot] = kind;
    return seq;
  }
}
