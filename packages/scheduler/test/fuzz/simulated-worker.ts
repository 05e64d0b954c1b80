// What the fuzzer's simulation needs of a worker, whether the model of one (worker-model.ts) or the real worker
// state machine behind a simulated shell (real-worker.ts): the messages it receives and sends, what it holds,
// and the steps it can take on its own, each one a random action of the simulation.
import type { WorkerReport } from '../../src/index.js';

export interface ComputeMessage {
  key: string;
  functionId: string;
  runId: number;
  inputs: Array<{ key: string; nbytes: number; holders: string[] }>;
  sendValue: boolean;
}

/** One SchedulerToWorker message, as the shell would have built it. */
export interface SchedulerMessage {
  compute: ComputeMessage[];
  freeKeys: string[];
  cancel: Array<{ key: string; runId: number }>;
}

/** Something a worker can do now without being told: start a run, finish loading inputs, hand work to a thread. */
export interface WorkerStep {
  label: string;
  take(): void;
}

/** A run a thread is executing; `cancelled`: its result will be dropped unreported. */
export interface ExecutingRun {
  key: string;
  runId: number;
  cancelled: boolean;
}

export type RunOutcome = 'success' | 'failure';

/** Finds a peer by address (addresses are worker ids in the simulation). */
export type PeerLookup = (address: string) => SimulatedWorker | undefined;

export interface SimulatedWorker {
  readonly id: string;
  readonly resources: Record<string, number>;
  readonly closing: boolean;
  readonly paused: boolean;
  /** Messages from the scheduler not yet applied, oldest first. */
  readonly inbox: SchedulerMessage[];
  /** Messages for the scheduler, sent and not yet delivered, oldest first. */
  readonly outbox: WorkerReport[];
  /** Reports made since its last event-loop turn ended, not yet sent. */
  readonly hasUnsentReports: boolean;
  holds(key: string): boolean;
  heldKeys(): string[];
  /** Keys it still has an assignment for (queued, loading or running). */
  assignedKeys(): string[];
  /** Applies the oldest message from the scheduler. */
  applyNext(): void;
  steps(peer: PeerLookup): WorkerStep[];
  executing(): ExecutingRun[];
  /** The run ends; a value of at most 64 bytes is `valueOf(key)`, so a value delivered under the wrong key shows. */
  finish(run: ExecutingRun, outcome: RunOutcome, nbytes: number, durationMs: number): void;
  /** A held value becomes unreadable (a corrupt spill file). */
  loseKey(key: string): void;
  close(): void;
  setPaused(paused: boolean): void;
  /** Its event loop turns: what it reported since the last turn is sent. */
  endTurn(): void;
  /**
   * Takes the oldest message for the scheduler. `alsoNext` is asked whether the next one rides in the same
   * message (a model decides how its reports group into messages; a real worker's messages are what it sent).
   */
  takeReport(alsoNext: () => boolean): WorkerReport;
  /** Whether it still owes the scheduler an answer for run `runId` of `key` (counting what is in flight). */
  owes(key: string, runId: number): boolean;
  /** Whether a keys-lost report for `key` is on its way. */
  reportsLost(key: string): boolean;
}

export function emptyReport(): WorkerReport {
  return { finished: [], failed: [], missing: [], lostKeys: [], handedBack: [], closing: false, metrics: undefined };
}

/** The value a task produces: its key's bytes, so a value delivered under the wrong key shows. */
export function valueOf(key: string): Uint8Array {
  return new TextEncoder().encode(key);
}

/** Whether any report in `reports` answers run `runId` of `key`, or hands the key back. */
export function answers(reports: readonly WorkerReport[], key: string, runId: number): boolean {
  return reports.some(
    (report) =>
      report.handedBack.includes(key) ||
      report.finished.some((entry) => entry.key === key && entry.runId === runId) ||
      report.failed.some((entry) => entry.key === key && entry.runId === runId) ||
      report.missing.some((entry) => entry.key === key && entry.runId === runId),
  );
}
