// What a worker reports that the state machine does not need: its memory thresholds (from the hello), running
// byte totals of spill and transfer I/O, and the transfers and spill reads of the last heartbeat. The shell keeps
// these beside each worker's session and hands them to the dashboard (the Prometheus counters, the task stream);
// none of it decides where a task runs, so none of it goes through the state machine or its fuzzers.
import type { loom } from '@loom/protocol';
import type { ActivityKind, TaskActivity } from './task-activity.js';

/** Fractions of the worker's memory limit, as the hello carries them: 0 where the worker turned one off. */
export interface WorkerThresholds {
  target: number;
  spill: number;
  pause: number;
  terminate: number;
}

/** Byte totals since the worker started. */
export interface WorkerIoTotals {
  spillWriteBytesTotal: number;
  spillReadBytesTotal: number;
  transferIncomingBytesTotal: number;
  transferOutgoingBytesTotal: number;
}

export interface WorkerTelemetry {
  /** Epoch milliseconds of the worker's last message. */
  lastSeen: number;
  /** Undefined for a worker that did not say (an older one): the defaults apply. */
  thresholds: WorkerThresholds | undefined;
  io: WorkerIoTotals;
}

export const NO_IO: Readonly<WorkerIoTotals> = Object.freeze({ spillWriteBytesTotal: 0, spillReadBytesTotal: 0, transferIncomingBytesTotal: 0, transferOutgoingBytesTotal: 0 });

export function thresholdsFromWire(wire: loom.v1.IMemoryThresholds | null | undefined): WorkerThresholds | undefined {
  if (!wire) return undefined;
  const fraction = (value: number | null | undefined): number => Math.max(0, value ?? 0);
  return { target: fraction(wire.target), spill: fraction(wire.spill), pause: fraction(wire.pause), terminate: fraction(wire.terminate) };
}

export function ioTotalsFromWire(metrics: loom.v1.IWorkerMetrics): WorkerIoTotals {
  return {
    spillWriteBytesTotal: metrics.spillWriteBytesTotal ?? 0,
    spillReadBytesTotal: metrics.spillReadBytesTotal ?? 0,
    transferIncomingBytesTotal: metrics.transferIncomingBytesTotal ?? 0,
    transferOutgoingBytesTotal: metrics.transferOutgoingBytesTotal ?? 0,
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
