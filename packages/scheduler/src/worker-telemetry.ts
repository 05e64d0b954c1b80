// What a worker reports that the state machine does not need: its memory thresholds (from the hello), running
// byte totals of spill and transfer I/O, the transfers and spill reads of the last heartbeat, and its recent log
// lines. The shell keeps these beside each worker's session, so they go when the worker does, and hands them to
// the dashboard (the Prometheus counters, the task stream, the worker page); none of it decides where a task
// runs, so none of it goes through the state machine or its fuzzers.
import type { loom } from '@loom/protocol';
import type { ActivityKind, TaskActivity } from './task-activity.js';

/** Fractions of the worker's memory limit, as the hello carries them: 0 where the worker turned one off. */
export interface WorkerThresholds {
  target: number;
  spill: number;
  pause: number;
  terminate: number;
}

/** Byte totals since the worker started, and the transfers open at its last heartbeat. */
export interface WorkerIo {
  spillWriteBytesTotal: number;
  spillReadBytesTotal: number;
  transferIncomingBytesTotal: number;
  transferOutgoingBytesTotal: number;
  /** GetData calls it waits on, and the sizes of the keys they have yet to deliver. */
  transferIncomingCalls: number;
  transferIncomingBytes: number;
  /** GetData calls it answers, and the bytes of their values not yet sent. */
  transferOutgoingCalls: number;
  transferOutgoingBytes: number;
}

export interface WorkerTelemetry {
  /** Epoch milliseconds of the worker's last message. */
  lastSeen: number;
  /** Undefined for a worker that did not say (an older one): the defaults apply. */
  thresholds: WorkerThresholds | undefined;
  io: WorkerIo;
  logs: WorkerLogs;
}

export const NO_IO: Readonly<WorkerIo> = Object.freeze({
  spillWriteBytesTotal: 0,
  spillReadBytesTotal: 0,
  transferIncomingBytesTotal: 0,
  transferOutgoingBytesTotal: 0,
  transferIncomingCalls: 0,
  transferIncomingBytes: 0,
  transferOutgoingCalls: 0,
  transferOutgoingBytes: 0,
});

export function thresholdsFromWire(wire: loom.v1.IMemoryThresholds | null | undefined): WorkerThresholds | undefined {
  if (!wire) return undefined;
  const fraction = (value: number | null | undefined): number => Math.max(0, value ?? 0);
  return { target: fraction(wire.target), spill: fraction(wire.spill), pause: fraction(wire.pause), terminate: fraction(wire.terminate) };
}

export function ioFromWire(metrics: loom.v1.IWorkerMetrics): WorkerIo {
  return {
    spillWriteBytesTotal: metrics.spillWriteBytesTotal ?? 0,
    spillReadBytesTotal: metrics.spillReadBytesTotal ?? 0,
    transferIncomingBytesTotal: metrics.transferIncomingBytesTotal ?? 0,
    transferOutgoingBytesTotal: metrics.transferOutgoingBytesTotal ?? 0,
    transferIncomingCalls: metrics.transferIncomingCalls ?? 0,
    transferIncomingBytes: metrics.transferIncomingBytes ?? 0,
    transferOutgoingCalls: metrics.transferOutgoingCalls ?? 0,
    transferOutgoingBytes: metrics.transferOutgoingBytes ?? 0,
  };
}

/** Wire kinds (WorkerActivity.Kind: 0 transfer, 1 spill read, 2 spill write) as the activity ring names them. */
const KINDS: readonly ActivityKind[] = ['transfer', 'spill-read', 'spill-write'];

/** Puts a heartbeat's transfers and spill I/O into the ring, timed back from `receivedMs` (the scheduler's clock). */
export function recordWorkerActivity(activity: TaskActivity, workerId: string, metrics: loom.v1.IWorkerMetrics, receivedMs: number): void {
  for (const span of metrics.activity ?? []) {
    const kind = KINDS[span.kind ?? 0];
    if (kind === undefined) continue; // a kind from a newer worker: not drawn
    const startMs = receivedMs - Math.max(0, span.startedMsAgo ?? 0);
    activity.workerActivity(workerId, kind, startMs, startMs + Math.max(0, span.durationMs ?? 0));
  }
}

/** One line of a worker's log, timed on the scheduler's clock. */
export interface WorkerLogLine {
  /** Increases by one per line of this worker's session: a page keys its rows by it. */
  seq: number;
  /** Epoch milliseconds. */
  timeMs: number;
  /** pino's level number (30 info, 40 warn, 50 error). */
  level: number;
  msg: string;
  /** The record's other fields as JSON text; '' when none. */
  fields: string;
}

/** Lines kept per worker: what its page shows. */
export const WORKER_LOG_LINES = 200;
/**
 * Code units of a message or its fields kept here. Workers cut both at 2 KiB (@loom/worker worker-log.ts); this
 * only bounds what a worker that does not would cost the scheduler's memory.
 */
const LOG_TEXT_LIMIT = 4096;

/** A worker's newest log lines, from its heartbeats: a ring of `capacity`, oldest dropped first. */
export class WorkerLogs {
  /** Lines the worker logged but did not send, as its heartbeats counted them (not those this ring let go). */
  droppedTotal = 0;
  readonly #ring: (WorkerLogLine | undefined)[];
  #seq = 0;

  constructor(private readonly capacity = WORKER_LOG_LINES) {
    this.#ring = new Array<WorkerLogLine | undefined>(capacity);
  }

  /** A heartbeat's lines, timed back from `receivedMs` (the scheduler's clock). */
  record(metrics: loom.v1.IWorkerMetrics, receivedMs: number): void {
    this.droppedTotal += metrics.logsDropped ?? 0;
    for (const line of metrics.logs ?? []) {
      this.#seq += 1;
      this.#ring[this.#seq % this.capacity] = {
        seq: this.#seq,
        timeMs: receivedMs - Math.max(0, line.msAgo ?? 0),
        level: line.level ?? 0,
        msg: (line.msg ?? '').slice(0, LOG_TEXT_LIMIT),
        fields: (line.fields ?? '').slice(0, LOG_TEXT_LIMIT),
      };
    }
  }

  /** The lines held, oldest first. */
  lines(): WorkerLogLine[] {
    const lines: WorkerLogLine[] = [];
    for (let seq = Math.max(1, this.#seq - this.capacity + 1); seq <= this.#seq; seq++) lines.push(this.#ring[seq % this.capacity] as WorkerLogLine);
    return lines;
  }
}
