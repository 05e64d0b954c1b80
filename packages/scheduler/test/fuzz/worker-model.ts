// A model of one worker as the scheduler sees it through its stream: what it stores, which runs it holds, and
// the reports it sends, played faithfully (including the ways real workers lag: reports of runs cancelled
// meanwhile, a cancel applied after a compute of the same message, a store that answers a compute at once).
import type { FinishedTask, WorkerReport } from '../../src/index.js';
import {
  answers,
  emptyReport,
  valueOf,
  type ComputeMessage,
  type ExecutingRun,
  type PeerLookup,
  type RunOutcome,
  type SchedulerMessage,
  type SimulatedWorker,
  type WorkerStep,
} from './simulated-worker.js';

/**
 * How the worker treats a compute of a key it is already running: `adopt` answers only the new run;
 * `report-both` also reports the old run (as a worker that stores the first result and answers the second compute
 * from its store would).
 */
export type WorkerFlavour = 'adopt' | 'report-both';

/** The fixed order in which a worker applies the parts of one message. */
export type ApplyOrder = 'free-compute-cancel' | 'free-cancel-compute';

interface RunRecord {
  key: string;
  runId: number;
  inputs: ComputeMessage['inputs'];
  sendValue: boolean;
  phase: 'queued' | 'running';
  cancelled: boolean;
  /** Earlier runs of the key this one replaced (report-both reports them too). */
  replacedRuns: number[];
}

export class WorkerModel implements SimulatedWorker {
  /** Stored values: key -> nbytes. */
  readonly store = new Map<string, number>();
  readonly records = new Map<string, RunRecord>();
  readonly inbox: SchedulerMessage[] = [];
  /** Reports not yet delivered to the scheduler, oldest first. */
  readonly outbox: WorkerReport[] = [];
  paused = false;
  closing = false;
  readonly hasUnsentReports = false;

  constructor(
    readonly id: string,
    readonly nthreads: number,
    readonly resources: Record<string, number>,
    readonly flavour: WorkerFlavour,
    readonly order: ApplyOrder,
  ) {}

  private get runningCount(): number {
    let count = 0;
    for (const record of this.records.values()) if (record.phase === 'running') count += 1;
    return count;
  }

  holds(key: string): boolean {
    return this.store.has(key);
  }

  heldKeys(): string[] {
    return [...this.store.keys()];
  }

  assignedKeys(): string[] {
    return [...this.records.keys()];
  }

  /** Applies the oldest message from the scheduler. */
  applyNext(): void {
    const message = this.inbox.shift();
    if (message === undefined) return;
    for (const key of message.freeKeys) this.store.delete(key);
    if (this.order === 'free-compute-cancel') {
      this.compute(message.compute);
      this.cancel(message.cancel);
    } else {
      this.cancel(message.cancel);
      this.compute(message.compute);
    }
  }

  private compute(tasks: ComputeMessage[]): void {
    for (const task of tasks) {
      const existing = this.records.get(task.key);
      if (existing !== undefined) {
        // Assigned again while still here (closing too: it finishes here anyway).
        if (this.flavour === 'report-both') existing.replacedRuns.push(existing.runId);
        existing.runId = task.runId;
        existing.cancelled = false;
        existing.sendValue = task.sendValue;
        continue;
      }
      if (this.closing) {
        this.send({ handedBack: [task.key] });
        continue;
      }
      const held = this.store.get(task.key);
      if (held !== undefined) {
        this.send({ finished: [this.finishedReport(task.key, task.runId, held, task.sendValue)] });
        continue;
      }
      this.records.set(task.key, { ...task, phase: 'queued', cancelled: false, replacedRuns: [] });
    }
  }

  private cancel(cancels: SchedulerMessage['cancel']): void {
    for (const { key, runId } of cancels) {
      const record = this.records.get(key);
      if (record === undefined || record.runId !== runId) continue;
      if (record.phase === 'queued') this.records.delete(key);
      else record.cancelled = true;
    }
  }

  /** Queued runs a free thread could start now. */
  steps(peer: PeerLookup): WorkerStep[] {
    if (this.paused || this.closing || this.runningCount >= this.nthreads) return [];
    return [...this.records.values()]
      .filter((record) => record.phase === 'queued')
      .map((record) => ({ label: `starts ${record.key}#${record.runId}`, take: () => this.start(record, peer) }));
  }

  executing(): ExecutingRun[] {
    return [...this.records.values()].filter((record) => record.phase === 'running');
  }

  /** Gathers the run's inputs (from its own store or a peer's) and starts it, or reports what it could not get. */
  private start(record: RunRecord, peer: PeerLookup): void {
    const missingKeys: string[] = [];
    const failedHolders = new Set<string>();
    for (const input of record.inputs) {
      if (this.store.has(input.key)) continue;
      if (input.holders.some((holder) => peer(holder)?.holds(input.key))) continue;
      missingKeys.push(input.key);
      for (const holder of input.holders) failedHolders.add(holder);
    }
    if (missingKeys.length === 0) {
      record.phase = 'running';
      return;
    }
    this.records.delete(record.key);
    this.send({ missing: [{ key: record.key, runId: record.runId, missingKeys, failedHolders: [...failedHolders] }] });
  }

  /** A running run ends: its result is stored and reported, or its failure reported; a cancelled run is dropped. */
  finish(run: ExecutingRun, outcome: RunOutcome, nbytes: number, durationMs: number): void {
    const record = this.records.get(run.key)!;
    this.records.delete(record.key);
    if (record.cancelled) return;
    if (outcome === 'failure') {
      const error = { code: 'TASK_FAILED', message: `${record.key} failed`, stack: '', errorName: 'Error', taskKey: record.key, worker: this.id };
      this.send({ failed: [{ key: record.key, runId: record.runId, thread: 1, error }] });
      return;
    }
    this.store.set(record.key, nbytes);
    const finished = [...record.replacedRuns, record.runId].map((runId) =>
      this.finishedReport(record.key, runId, nbytes, record.sendValue, durationMs),
    );
    this.send({ finished });
  }

  loseKey(key: string): void {
    this.store.delete(key);
    this.send({ lostKeys: [key] });
  }

  /** Graceful shutdown: stop starting runs, hand back the queued ones; running ones still finish. */
  close(): void {
    this.closing = true;
    const handedBack: string[] = [];
    for (const record of [...this.records.values()]) {
      if (record.phase !== 'queued') continue;
      this.records.delete(record.key);
      handedBack.push(record.key);
    }
    this.send({ handedBack, closing: true });
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.send({ metrics: { managedBytes: 0, spilledBytes: 0, rssBytes: 0, paused } });
  }

  /** Each report is sent at once: there is no turn to end. */
  endTurn(): void {}

  /**
   * The oldest report, merged with the next ones if `alsoNext` says so, as one message carries all a worker
   * reports in one turn. A message applies its parts in a fixed order (finished before lost keys), so a worker
   * that stores a key again after reporting it lost takes the key out of the pending lost keys.
   */
  takeReport(alsoNext: () => boolean): WorkerReport {
    const report = this.outbox.shift()!;
    while (this.outbox.length > 0 && alsoNext()) {
      const next = this.outbox.shift()!;
      const storedAgain = new Set(next.finished.map((result) => result.key));
      report.lostKeys = report.lostKeys.filter((key) => !storedAgain.has(key));
      report.finished.push(...next.finished);
      report.failed.push(...next.failed);
      report.missing.push(...next.missing);
      report.lostKeys.push(...next.lostKeys);
      report.handedBack.push(...next.handedBack);
      report.closing ||= next.closing;
      report.metrics = next.metrics ?? report.metrics;
    }
    return report;
  }

  owes(key: string, runId: number): boolean {
    if (this.inbox.some((message) => message.compute.some((task) => task.key === key && task.runId === runId))) return true;
    const record = this.records.get(key);
    if (record !== undefined && !record.cancelled && record.runId === runId) return true;
    return answers(this.outbox, key, runId);
  }

  reportsLost(key: string): boolean {
    return this.outbox.some((report) => report.lostKeys.includes(key));
  }

  private finishedReport(key: string, runId: number, nbytes: number, sendValue: boolean, durationMs = 0): FinishedTask {
    const value = sendValue && nbytes <= 64 ? valueOf(key) : undefined;
    return { key, runId, nbytes, codec: 1, durationMs, thread: 1, value };
  }

  private send(part: Partial<WorkerReport>): void {
    this.outbox.push({ ...emptyReport(), ...part });
  }
}
