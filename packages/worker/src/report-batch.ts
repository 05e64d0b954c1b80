// What the worker reports to the scheduler during one event-loop turn, as the WorkerToScheduler messages it leaves
// in: one message for the whole turn, or several, in the order the reports were made, when one would exceed the
// scheduler's message limit (a larger message would end the session). No I/O: scheduler-link.ts sends what
// `takeMessages` returns, and the scheduler's fuzzer drives the same batching against the real scheduler.
import { DEFAULT_MAX_MESSAGE_BYTES, Outbox, codecToWire, pb, taskErrorToWire, taskFinishedSizeBound, type loom } from '@loom/protocol';
import type { ActivityKind } from './worker-activity.js';
import type { MissingInputsReport, TaskFailedReport, TaskFinishedReport, TaskReporter, WorkerMetrics } from './task-types.js';

const ACTIVITY_KINDS: Readonly<Record<ActivityKind, loom.v1.WorkerActivity.Kind>> = {
  transfer: pb.WorkerActivity.Kind.TRANSFER,
  'spill-read': pb.WorkerActivity.Kind.SPILL_READ,
  'spill-write': pb.WorkerActivity.Kind.SPILL_WRITE,
};

export class ReportBatch implements TaskReporter {
  private readonly outbox = new Outbox<loom.v1.IWorkerToScheduler>();
  /**
   * Keys lost this turn. They go after everything else of the turn, which is where the scheduler applies them
   * within a message too; a key stored again meanwhile leaves the set, since its result report says it is held
   * here, and a lost report applied after that would leave the value here without the scheduler knowing.
   */
  private readonly lostKeys = new Set<string>();

  /** `limitBytes`: the largest message the scheduler accepts. */
  constructor(private limitBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** The scheduler named a smaller limit than ours (its welcome). */
  lowerLimit(bytes: number): void {
    if (bytes > 0) this.limitBytes = Math.min(this.limitBytes, bytes);
  }

  get isEmpty(): boolean {
    return this.outbox.isEmpty && this.lostKeys.size === 0;
  }

  /** A result, held here; its value travels inline when asked for and the report still fits one message. */
  finished(report: TaskFinishedReport): void {
    const { key, runId, value, durationMs, thread } = report;
    const nbytes = value.bytes.byteLength;
    const codec = codecToWire(value.codec);
    // Too large for any message (the scheduler's inline limit is near its message limit): the scheduler is told
    // where the value is instead, and whoever wants it fetches it from here, as any large value.
    const inlineBytes = taskFinishedSizeBound(key.length, nbytes);
    if (report.inline && inlineBytes <= this.limitBytes) {
      this.outbox.push('finished', { key, runId, nbytes, codec, durationMs, thread, value: value.bytes, hasValue: true }, inlineBytes);
    } else {
      this.outbox.push('finished', { key, runId, nbytes, codec, durationMs, thread }, taskFinishedSizeBound(key.length, undefined));
    }
    this.lostKeys.delete(key);
  }

  failed(report: TaskFailedReport): void {
    this.outbox.push('failed', { key: report.key, runId: report.runId, thread: report.thread, error: taskErrorToWire(report.error) });
  }

  missing(report: MissingInputsReport): void {
    this.outbox.push('missing', { key: report.key, runId: report.runId, missingKeys: report.missingKeys, failedHolders: report.failedHolders });
  }

  handBack(keys: string[]): void {
    for (const key of keys) this.outbox.push('handedBack', key);
  }

  /** Keys this worker no longer holds though it said it did (a corrupt or missing spill file). */
  keysLost(keys: readonly string[]): void {
    for (const key of keys) this.lostKeys.add(key);
  }

  /** The heartbeat; a later one in the same turn replaces it. */
  metrics(metrics: WorkerMetrics): void {
    this.outbox.set('metrics', { ...metrics, activity: metrics.activity.map((span) => ({ ...span, kind: ACTIVITY_KINDS[span.kind] })) });
  }

  /** The scheduler is to assign nothing more (the queued tasks handed back travel in the same turn). */
  closing(): void {
    this.outbox.set('closing', true);
  }

  /** Ends the turn: everything reported, as messages to send in this order. */
  takeMessages(): loom.v1.IWorkerToScheduler[] {
    for (const key of this.lostKeys) this.outbox.push('lostKeys', key);
    this.lostKeys.clear();
    return this.outbox.takeMessages(this.limitBytes);
  }
}
