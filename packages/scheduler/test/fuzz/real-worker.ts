// The real worker, without threads or network: @loom/worker's state machine (WorkerState, in validate mode) and
// its report batching (ReportBatch) behind a simulated shell that plays the I/O the task runner would do (input
// loads, reads of held values, thread batches) as steps the simulation takes in random order. Its messages to
// the scheduler go through the protobuf encoder and the scheduler's own wire adapter, split under a small
// message limit, so the scheduler sees exactly what a real worker would send.
import { LoomError, pb, type EncodedValue } from '@loom/protocol';
import { ReportBatch, WorkerState, schedulerMessageEvents, type ThreadTask, type WorkerEvent, type WorkerInstruction } from '@loom/worker';
import type { WorkerReport } from '../../src/index.js';
import { workerReportFromWire } from '../../src/wire-convert.js';
import {
  answers,
  emptyReport,
  valueOf,
  type ExecutingRun,
  type PeerLookup,
  type RunOutcome,
  type SchedulerMessage,
  type SimulatedWorker,
  type WorkerStep,
} from './simulated-worker.js';

/** Results small enough travel inline (as the scheduler's welcome would set it). */
const INLINE_VALUE_BYTES = 64;

interface InputLoad {
  key: string;
  attempt: number;
  inputs: ReadonlyArray<{ key: string; nbytes: number; holders: readonly string[] }>;
}

export interface RealWorkerOptions {
  nthreads: number;
  resources: Record<string, number>;
  /** The largest message the scheduler accepts: the worker's reports are cut below it. */
  messageLimitBytes: number;
  loadBudgetBytes: number;
}

export class RealWorker implements SimulatedWorker {
  readonly inbox: SchedulerMessage[] = [];
  readonly outbox: WorkerReport[] = [];
  readonly resources: Record<string, number>;
  closing = false;
  paused = false;
  private readonly state: WorkerState;
  private readonly batch: ReportBatch;
  private readonly store = new Map<string, EncodedValue>();
  private loads: InputLoad[] = [];
  private reads: Array<{ key: string; attempt: number }> = [];
  /** Each thread's batch: the tasks it has still to run, in order. */
  private threads: ThreadTask[][] = [];
  /** What this turn reported, as the scheduler will read it (for owes and reportsLost). */
  private unsent = emptyReport();
  private stimuli = 0;

  constructor(
    readonly id: string,
    private readonly options: RealWorkerOptions,
  ) {
    this.resources = options.resources;
    this.state = new WorkerState({
      nthreads: options.nthreads,
      held: { has: (key) => this.store.has(key), inMemory: (key) => this.store.has(key) },
      loadBudgetBytes: options.loadBudgetBytes,
      validate: true,
    });
    this.state.inlineValueBytes = INLINE_VALUE_BYTES;
    this.batch = new ReportBatch(options.messageLimitBytes);
  }

  get hasUnsentReports(): boolean {
    return !this.batch.isEmpty;
  }

  holds(key: string): boolean {
    return this.store.has(key);
  }

  heldKeys(): string[] {
    return [...this.store.keys()];
  }

  assignedKeys(): string[] {
    return [...this.state.tasks.keys()];
  }

  /** As the task runner applies a message: the worker package's own order of its parts. */
  applyNext(): void {
    const message = this.inbox.shift();
    if (message === undefined) return;
    const compute = message.compute.map((task) => ({ ...task, args: new Uint8Array(0) }));
    const stimulusId = this.stimulus('scheduler');
    for (const event of schedulerMessageEvents({ functions: [], freeKeys: message.freeKeys, compute, cancel: message.cancel, shutdown: false }, stimulusId)) {
      this.handle(event);
    }
  }

  steps(peer: PeerLookup): WorkerStep[] {
    const steps: WorkerStep[] = [];
    for (const load of this.loads) steps.push({ label: `loads the inputs of ${load.key}`, take: () => this.completeLoad(load, peer) });
    for (const read of this.reads) steps.push({ label: `reads its copy of ${read.key}`, take: () => this.completeRead(read) });
    if (this.state.wantsDispatch) steps.push({ label: 'dispatches to its threads', take: () => this.handle({ type: 'dispatch', stimulusId: this.stimulus('dispatch') }) });
    return steps;
  }

  /** The task each thread runs now (the first of its batch). */
  executing(): ExecutingRun[] {
    return this.threads.map(([task]) => {
      const record = this.state.tasks.get(task!.key);
      return { key: task!.key, runId: record?.task.runId ?? -1, cancelled: record?.state === 'cancelled' };
    });
  }

  finish(run: ExecutingRun, outcome: RunOutcome, nbytes: number, durationMs: number): void {
    const index = this.threads.findIndex(([task]) => task!.key === run.key);
    const batch = this.threads[index]!;
    batch.shift();
    if (batch.length === 0) this.threads.splice(index, 1);
    const bytes = nbytes <= INLINE_VALUE_BYTES ? valueOf(run.key) : new Uint8Array(nbytes);
    const result =
      outcome === 'success'
        ? { key: run.key, ok: true as const, codec: 'v8' as const, bytes, durationMs }
        : { key: run.key, ok: false as const, error: { code: 'TASK_FAILED' as const, message: `${run.key} failed`, stack: '', errorName: 'Error' }, durationMs };
    this.handle({ type: 'executed', results: [result], threadFreed: batch.length === 0, slot: 0, stimulusId: this.stimulus('executed') });
  }

  /** What the spill store does with a file it cannot read: the key leaves the store and is reported lost. */
  loseKey(key: string): void {
    this.store.delete(key);
    this.batch.keysLost([key]);
    this.unsent.lostKeys.push(key);
  }

  /** As Worker.close: the closing announcement and the hand-back travel in the same turn. */
  close(): void {
    this.closing = true;
    this.batch.closing();
    this.handle({ type: 'close', stimulusId: this.stimulus('close') });
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.handle({ type: 'pause', paused, stimulusId: this.stimulus('pause') });
    this.batch.metrics({
      managedBytes: 0, spilledBytes: 0, rssBytes: 0, executing: this.state.executingCount, ready: this.state.queuedCount, paused,
      spillWriteBytesTotal: 0, spillReadBytesTotal: 0, transferIncomingBytesTotal: 0, transferOutgoingBytesTotal: 0,
      transferIncomingCalls: 0, transferIncomingBytes: 0, transferOutgoingCalls: 0, transferOutgoingBytes: 0, activity: [], activityDropped: 0, logs: [], logsDropped: 0,
    });
  }

  /** Sends the turn's messages through the wire encoding; none may exceed the limit unless it holds one entry. */
  endTurn(): void {
    for (const message of this.batch.takeMessages()) {
      const bytes = pb.WorkerToScheduler.encode(message).finish();
      const entries = [message.finished, message.failed, message.missing, message.lostKeys, message.handedBack].reduce((sum, part) => sum + (part?.length ?? 0), 0);
      if (bytes.length > this.options.messageLimitBytes && entries > 1) {
        throw new Error(`${this.id} sent a message of ${bytes.length} bytes over the limit of ${this.options.messageLimitBytes}`);
      }
      this.outbox.push(workerReportFromWire(pb.WorkerToScheduler.decode(bytes)));
    }
    this.unsent = emptyReport();
  }

  takeReport(): WorkerReport {
    return this.outbox.shift()!;
  }

  owes(key: string, runId: number): boolean {
    if (this.inbox.some((message) => message.compute.some((task) => task.key === key && task.runId === runId))) return true;
    const record = this.state.tasks.get(key);
    if (record !== undefined && record.state !== 'cancelled' && record.task.runId === runId) return true;
    return answers(this.outbox, key, runId) || answers([this.unsent], key, runId);
  }

  reportsLost(key: string): boolean {
    return this.unsent.lostKeys.includes(key) || this.outbox.some((report) => report.lostKeys.includes(key));
  }

  private stimulus(kind: string): string {
    return `${this.id}-${kind}-${++this.stimuli}`;
  }

  private handle(event: WorkerEvent): void {
    for (const instruction of this.state.handle(event)) this.carryOut(instruction);
  }

  /** What task-runner.ts does with each instruction, with the store a map and threads and loads left pending. */
  private carryOut(instruction: WorkerInstruction): void {
    switch (instruction.type) {
      case 'execute':
        this.threads.push([...instruction.tasks]);
        break;
      case 'load-inputs':
        this.loads.push({ key: instruction.key, attempt: instruction.attempt, inputs: instruction.inputs });
        break;
      case 'read-held':
        this.reads.push({ key: instruction.key, attempt: instruction.attempt });
        break;
      case 'send-finished': {
        if (instruction.store) this.store.set(instruction.key, instruction.value);
        this.batch.finished(instruction);
        const { key, runId, value, durationMs } = instruction;
        this.unsent.finished.push({ key, runId, nbytes: value.bytes.byteLength, codec: 1, durationMs, thread: 1, value: undefined });
        this.unsent.lostKeys = this.unsent.lostKeys.filter((lost) => lost !== key);
        break;
      }
      case 'send-failed': {
        const { key, runId, thread, error } = instruction;
        this.batch.failed({ key, runId, thread, error: new LoomError(error.code, error.message, { taskKey: key, remoteStack: error.stack, errorName: error.errorName, worker: this.id }) });
        this.unsent.failed.push({ key, runId, thread, error: { code: error.code, message: error.message, stack: '', errorName: '', taskKey: key, worker: this.id } });
        break;
      }
      case 'send-missing':
        this.batch.missing(instruction);
        this.unsent.missing.push(instruction);
        break;
      case 'hand-back':
        this.batch.handBack(instruction.keys);
        this.unsent.handedBack.push(...instruction.keys);
        break;
      case 'release':
        for (const key of instruction.keys) this.store.delete(key);
        break;
    }
  }

  /** As input-loader.ts: each input from the own store, else from a holder that has it; else it is missing. */
  private completeLoad(load: InputLoad, peer: PeerLookup): void {
    this.loads.splice(this.loads.indexOf(load), 1);
    const values: EncodedValue[] = [];
    const privateValues: boolean[] = [];
    const missingKeys: string[] = [];
    const failedHolders = new Set<string>();
    for (const input of load.inputs) {
      const local = this.store.get(input.key);
      if (local !== undefined) {
        values.push(local);
        privateValues.push(false);
        continue;
      }
      const others = input.holders.filter((holder) => holder !== this.id);
      if (others.some((holder) => peer(holder)?.holds(input.key))) {
        values.push({ codec: 'v8', bytes: new Uint8Array(input.nbytes) });
        privateValues.push(true);
        continue;
      }
      missingKeys.push(input.key);
      for (const holder of input.holders) failedHolders.add(holder);
    }
    const stimulusId = this.stimulus('inputs');
    const { key, attempt } = load;
    this.handle(
      missingKeys.length === 0
        ? { type: 'inputs-loaded', key, attempt, values, privateValues, stimulusId }
        : { type: 'inputs-missing', key, attempt, missingKeys, failedHolders: [...failedHolders], stimulusId },
    );
  }

  private completeRead(read: { key: string; attempt: number }): void {
    this.reads.splice(this.reads.indexOf(read), 1);
    this.handle({ type: 'held-read', key: read.key, attempt: read.attempt, value: this.store.get(read.key), stimulusId: this.stimulus('held-read') });
  }
}
