// The worker's task states, as a state machine without I/O (after Dask's worker_state_machine.py): events go in
// through `handle`, the one mutator, and instructions come out for the shell (task-runner.ts) to carry out. It owns
// the rules for the load budget, pause, free, cancel by run id, dispatch to threads and hand-back on close, so
// they can be tested and fuzzed (test/worker-state-fuzz.test.ts) without threads or network.
//
//   compute ─┬─> reading-held ──(read)──> reported finished from the store
//            │        └─(unreadable or freed)─┐
//            └────────────────────────────────┴─> waiting ──> fetching ──> ready ──> executing ──> reported
//   waiting: its inputs would be read back from disk or fetched, and the load budget is spent (or paused)
//   executing ──cancel──> cancelled ──compute──> executing (the running result is used for the new run)
//   cancelled results are dropped unreported; a thread dying requeues executing tasks (ready, or loading its inputs
//   again if it was handed a private one); close hands back everything that is not executing. A reading-held task
//   cancelled or handed back releases the held value (the scheduler does not count it here).
// Its fields are public for the shell, the tests and the invariants to read; only `handle` changes them.
import { LoomError, type EncodedValue } from '@loom/protocol';
import type { ThreadResult, ThreadTask } from './thread-messages.js';
import type { TaskAssignment } from './task-types.js';
import type {
  CancelEvent,
  ComputeEvent,
  ExecutedEvent,
  FreeEvent,
  HeldReadEvent,
  InputsLoadedEvent,
  InputsMissingEvent,
  RequeuedEvent,
  WorkerEvent,
} from './worker-events.js';
import type { WorkerInstruction } from './worker-instructions.js';
import { validateWorkerState } from './worker-state-invariants.js';
import { BatchSizer } from './batch-sizer.js';
import { PrivateInputs } from './private-inputs.js';
import { TRANSITIONS, type WorkerTask, type WorkerTaskState } from './worker-task.js';

export type { WorkerTask, WorkerTaskState } from './worker-task.js';

/** What the state machine may ask of the store, synchronously: which results are held, and which in memory. */
export interface HeldValues {
  has(key: string): boolean;
  inMemory(key: string): boolean;
}

export interface WorkerStateOptions {
  nthreads: number;
  held: HeldValues;
  /** Bytes of inputs loaded for tasks not yet executing (one task's inputs may exceed it alone). Default: no bound. */
  loadBudgetBytes?: number;
  /** Called on every transition; `to` is 'forgotten' when the task leaves the worker. */
  trace?: (key: string, from: string, to: string, stimulusId: string) => void;
  /** Check every invariant after each event (tests, fuzzing). */
  validate?: boolean;
}

const NO_INPUTS: readonly EncodedValue[] = [];

export class WorkerState {
  /** Every task assigned here that is not finished, by key; each is in exactly one state. */
  readonly tasks = new Map<string, WorkerTask>();
  /** Tasks in state 'ready', in arrival order. */
  ready: WorkerTask[] = [];
  /**
   * Tasks in state 'waiting', in arrival order, for the load budget. Without it a worker handed hundreds of tasks
   * over spilled partitions reads them all back at once and runs out of memory before the first one runs (Dask
   * bounds its incoming transfers the same way: distributed.worker.memory.transfer).
   */
  waiting: WorkerTask[] = [];
  /** Bytes of inputs loaded (or being loaded) for tasks not yet handed to a thread. */
  loadedBytes = 0;
  /** Tasks handed to a thread and not yet reported back (states executing and cancelled). */
  executingCount = 0;
  freeThreads: number;
  paused = false;
  closing = false;
  /** Values at most this large travel inline in reports the scheduler asked the value for (set by its welcome). */
  inlineValueBytes = 0;
  readonly nthreads: number;
  readonly loadBudgetBytes: number;

  private nextSeq = 0;
  private readonly batches = new BatchSizer();
  private readonly privateInputs = new PrivateInputs();
  private out: WorkerInstruction[] = [];
  private stimulusId = '';

  constructor(private readonly options: WorkerStateOptions) {
    this.nthreads = options.nthreads;
    this.freeThreads = options.nthreads;
    this.loadBudgetBytes = options.loadBudgetBytes ?? Infinity;
  }

  /** Whether a dispatch would start something now (the shell then feeds one, once per event-loop turn). */
  get wantsDispatch(): boolean {
    return !this.paused && this.freeThreads > 0 && this.ready.length > 0;
  }

  /** Assigned tasks not handed to a thread, for the heartbeat. */
  get queuedCount(): number {
    return this.tasks.size - this.executingCount;
  }

  /** The one mutator: applies the event and returns what the shell must do, in order. */
  handle(event: WorkerEvent): WorkerInstruction[] {
    const out: WorkerInstruction[] = [];
    this.out = out;
    this.stimulusId = event.stimulusId;
    switch (event.type) {
      case 'compute':
        this.compute(event);
        break;
      case 'cancel':
        this.cancel(event);
        break;
      case 'free':
        this.free(event);
        break;
      case 'inputs-loaded':
        this.inputsLoaded(event);
        break;
      case 'inputs-missing':
        this.inputsMissing(event);
        break;
      case 'held-read':
        this.heldRead(event);
        break;
      case 'dispatch':
        this.dispatch();
        break;
      case 'executed':
        this.executed(event);
        break;
      case 'requeued':
        this.requeued(event);
        break;
      case 'pause':
        this.paused = event.paused;
        if (!event.paused) this.admitWaiting();
        break;
      case 'close':
        this.close();
        break;
    }
    if (this.options.validate) validateWorkerState(this);
    return out;
  }

  private compute({ tasks }: ComputeEvent): void {
    let handBack: string[] | undefined;
    for (const task of tasks) {
      const existing = this.tasks.get(task.key);
      if (existing) {
        // Assigned again while still here (a newer run, or the scheduler repeating itself): the newest assignment
        // is the one to answer. A cancelled executing task is wanted again; its running result serves the new run
        // (closing too: it is finishing here anyway).
        existing.task = task;
        if (existing.state === 'cancelled') this.move(existing, 'executing');
        continue;
      }
      if (this.closing) {
        (handBack ??= []).push(task.key);
        continue;
      }
      const record: WorkerTask = { task, seq: this.nextSeq++, state: 'released', inputs: undefined, reloadIfRequeued: false, loadBytes: 0 };
      this.tasks.set(task.key, record);
      if (this.options.held.has(task.key)) {
        // The scheduler lost track of a result we hold: report it from the store rather than run it again.
        this.move(record, 'reading-held');
        this.out.push({ type: 'read-held', key: task.key, attempt: record.seq, stimulusId: this.stimulusId });
      } else {
        this.admit(record);
      }
    }
    if (handBack) this.out.push({ type: 'hand-back', keys: handBack, stimulusId: this.stimulusId });
  }

  /** A cancel names the run it cancels, so one for an earlier run leaves a newer assignment of the key alone. */
  private cancel({ cancels }: CancelEvent): void {
    let dropped = false;
    let unclaimed: string[] | undefined;
    for (const { key, runId } of cancels) {
      const record = this.tasks.get(key);
      if (!record || record.task.runId !== runId) continue;
      if (record.state === 'executing') this.move(record, 'cancelled');
      else if (record.state !== 'cancelled') {
        if (record.state === 'reading-held') (unclaimed ??= []).push(key);
        this.drop(record);
        dropped = true;
      }
    }
    if (dropped) this.pruneQueues();
    if (unclaimed) this.releaseUnclaimed(unclaimed);
    this.admitWaiting();
  }

  /**
   * Releases held values that assignments given up unanswered were to be answered from. The scheduler never runs
   * a key where it counts a copy, so such a copy came from a run whose report it did not take (a stale one, from
   * before it assigned the key again): kept, nobody would ever free it.
   */
  private releaseUnclaimed(keys: string[]): void {
    this.out.push({ type: 'release', keys, stimulusId: this.stimulusId });
  }

  private free({ keys }: FreeEvent): void {
    for (const key of keys) {
      // A held value being read to report it is going away: the task runs instead.
      const record = this.tasks.get(key);
      if (record?.state === 'reading-held') this.admit(record);
    }
    this.out.push({ type: 'release', keys, stimulusId: this.stimulusId });
  }

  private heldRead({ key, attempt, value }: HeldReadEvent): void {
    const record = this.tasks.get(key);
    if (!record || record.seq !== attempt || record.state !== 'reading-held') return;
    if (value === undefined || !this.options.held.has(key)) {
      // The held copy could not be read (its spill file is missing or corrupt; the store reports it lost): the
      // assignment is still ours, so run the task rather than leave the scheduler waiting for a report.
      this.admit(record);
      return;
    }
    this.forget(record);
    this.out.push({
      type: 'send-finished',
      key,
      runId: record.task.runId,
      value,
      durationMs: 0,
      thread: 0,
      inline: record.task.sendValue && value.bytes.byteLength <= this.inlineValueBytes,
      store: false,
      stimulusId: this.stimulusId,
    });
  }

  private inputsLoaded({ key, attempt, values, privateValues }: InputsLoadedEvent): void {
    const record = this.tasks.get(key);
    // Cancelled, handed back or requeued since the load started: its values are simply dropped.
    if (!record || record.seq !== attempt || record.state !== 'fetching') return;
    this.privateInputs.hold(values, privateValues);
    record.inputs = values;
    this.move(record, 'ready');
    this.enqueueReady(record);
  }

  private inputsMissing({ key, attempt, missingKeys, failedHolders }: InputsMissingEvent): void {
    const record = this.tasks.get(key);
    if (!record || record.seq !== attempt || record.state !== 'fetching') return;
    this.forget(record);
    this.releaseLoad(record);
    this.out.push({ type: 'send-missing', key, runId: record.task.runId, missingKeys, failedHolders, stimulusId: this.stimulusId });
    this.admitWaiting();
  }

  private executed({ results, threadFreed, slot }: ExecutedEvent): void {
    for (const result of results) {
      const record = this.tasks.get(result.key);
      if (!record || (record.state !== 'executing' && record.state !== 'cancelled')) continue;
      this.batches.learn(record.task.functionId, result.durationMs);
      this.executingCount -= 1;
      this.forget(record);
      if (record.state === 'cancelled') continue;
      this.out.push(this.report(record.task, result, slot + 1));
    }
    if (threadFreed) this.freeThreads += 1;
  }

  private report(task: TaskAssignment, result: ThreadResult, thread: number): WorkerInstruction {
    if (!result.ok) return { type: 'send-failed', key: task.key, runId: task.runId, error: result.error, thread, stimulusId: this.stimulusId };
    return {
      type: 'send-finished',
      key: task.key,
      runId: task.runId,
      value: { codec: result.codec, bytes: result.bytes },
      durationMs: result.durationMs,
      thread,
      inline: task.sendValue && result.bytes.byteLength <= this.inlineValueBytes,
      store: true,
      stimulusId: this.stimulusId,
    };
  }

  /** Tasks a dying thread never ran: back in their place in the queue, or back to the scheduler when closing. */
  private requeued({ tasks }: RequeuedEvent): void {
    let handBack: string[] | undefined;
    for (const { key } of tasks) {
      const record = this.tasks.get(key);
      if (!record || (record.state !== 'executing' && record.state !== 'cancelled')) continue;
      this.executingCount -= 1;
      if (record.state === 'cancelled' || this.closing) {
        this.forget(record);
        if (record.state !== 'cancelled') (handBack ??= []).push(key);
      } else if (record.reloadIfRequeued || record.inputs === undefined) {
        // It loads its inputs again, in its place in the queue and under the budget like any task.
        record.reloadIfRequeued = false;
        record.inputs = undefined;
        this.admit(record);
      } else {
        this.move(record, 'ready');
        this.enqueueReady(record);
      }
    }
    if (handBack) this.out.push({ type: 'hand-back', keys: handBack, stimulusId: this.stimulusId });
    this.admitWaiting();
  }

  private close(): void {
    this.closing = true;
    const keys: string[] = [];
    const unclaimed: string[] = [];
    for (const record of this.tasks.values()) {
      if (record.state === 'executing' || record.state === 'cancelled') continue;
      if (record.state === 'reading-held') unclaimed.push(record.task.key);
      this.drop(record);
      keys.push(record.task.key);
    }
    this.ready = [];
    this.waiting = [];
    if (keys.length > 0) this.out.push({ type: 'hand-back', keys, stimulusId: this.stimulusId });
    if (unclaimed.length > 0) this.releaseUnclaimed(unclaimed);
  }

  /** Hands ready tasks to free threads, in batches the BatchSizer sizes. */
  private dispatch(): void {
    while (this.wantsDispatch) {
      const batch = this.ready.splice(0, this.batches.nextBatch(this.ready, this.freeThreads));
      const threadTasks = new Array<ThreadTask>(batch.length);
      for (let index = 0; index < batch.length; index++) {
        const record = batch[index] as WorkerTask;
        this.move(record, 'executing');
        const inputs = record.inputs ?? NO_INPUTS;
        record.reloadIfRequeued = this.privateInputs.includesPrivate(inputs);
        const ownedInputs = this.releaseInputs(record);
        // Kept for a requeue after a thread death, unless a private one was among them (see reloadIfRequeued).
        if (!record.reloadIfRequeued) record.inputs = inputs;
        // Its inputs are the executing task's memory now; the next waiting task may load.
        this.releaseLoad(record);
        const { key, functionId, args } = record.task;
        threadTasks[index] = { key, functionId, args, inputs, ownedInputs };
      }
      this.executingCount += batch.length;
      this.freeThreads -= 1;
      this.out.push({ type: 'execute', tasks: threadTasks, stimulusId: this.stimulusId });
    }
    this.admitWaiting();
  }

  /** A task enters the load queue: it loads now if that costs nothing or fits the budget and nobody waits before it. */
  private admit(record: WorkerTask): void {
    const cost = this.loadCost(record.task);
    if (cost === 0 || (this.waiting.length === 0 && this.fits(cost))) {
      this.startLoading(record, cost);
      return;
    }
    this.move(record, 'waiting');
    // Almost always at the end; a requeued or unreadable-held task goes back to its place by arrival.
    let index = this.waiting.length;
    while (index > 0 && (this.waiting[index - 1] as WorkerTask).seq > record.seq) index--;
    this.waiting.splice(index, 0, record);
  }

  /** Starts waiting tasks in arrival order while the budget allows. */
  private admitWaiting(): void {
    let started = 0;
    for (const record of this.waiting) {
      // Costs are looked at again: an input may be in memory now (another task's result), or spilled.
      const cost = this.loadCost(record.task);
      if (!this.fits(cost)) break;
      this.startLoading(record, cost);
      started += 1;
    }
    if (started > 0) this.waiting.splice(0, started);
  }

  /**
   * Whether loading inputs of `cost` bytes fits the budget now. The first load always fits, so an input larger
   * than the budget is still loaded, alone. Paused (memory is short), nothing that costs memory is loaded.
   */
  private fits(cost: number): boolean {
    if (cost === 0) return true;
    if (this.paused) return false;
    return this.loadedBytes === 0 || this.loadedBytes + cost <= this.loadBudgetBytes;
  }

  private startLoading(record: WorkerTask, cost: number): void {
    this.loadedBytes += cost;
    record.loadBytes = cost;
    if (record.task.inputs.length === 0) {
      this.move(record, 'ready');
      record.inputs = NO_INPUTS;
      this.enqueueReady(record);
      return;
    }
    this.move(record, 'fetching');
    this.out.push({ type: 'load-inputs', key: record.task.key, attempt: record.seq, inputs: record.task.inputs, stimulusId: this.stimulusId });
  }

  /** Bytes of the task's inputs not in memory here: to be read back from disk or fetched from a peer. */
  private loadCost(task: TaskAssignment): number {
    let bytes = 0;
    for (const input of task.inputs) if (!this.options.held.inMemory(input.key)) bytes += input.nbytes;
    return bytes;
  }

  private releaseLoad(record: WorkerTask): void {
    this.loadedBytes -= record.loadBytes;
    record.loadBytes = 0;
  }

  /** Keeps `ready` in arrival order; a task almost always belongs at the end, so the scan is short. */
  private enqueueReady(record: WorkerTask): void {
    let index = this.ready.length;
    while (index > 0 && (this.ready[index - 1] as WorkerTask).seq > record.seq) index--;
    if (index === this.ready.length) this.ready.push(record);
    else this.ready.splice(index, 0, record);
  }

  /**
   * The record stops holding its inputs (dispatched or dropped). Returns, per input, whether it was the last
   * holder of a private value: that value is then its own to hand to a thread.
   */
  private releaseInputs(record: WorkerTask): readonly boolean[] {
    const inputs = record.inputs ?? NO_INPUTS;
    record.inputs = undefined;
    return this.privateInputs.release(inputs);
  }

  /** Gives up a task that has not started executing: it leaves the worker with nothing held for it. */
  private drop(record: WorkerTask): void {
    this.forget(record);
    this.releaseInputs(record);
    this.releaseLoad(record);
  }

  /** Queues lose the records dropped from `tasks`, in one pass per event however many were dropped. */
  private pruneQueues(): void {
    this.ready = this.ready.filter((record) => this.tasks.get(record.task.key) === record);
    this.waiting = this.waiting.filter((record) => this.tasks.get(record.task.key) === record);
  }

  private move(record: WorkerTask, to: WorkerTaskState): void {
    if (!TRANSITIONS[record.state].includes(to)) {
      throw new LoomError('INTERNAL', `worker state machine: task '${record.task.key}' cannot go from ${record.state} to ${to} (stimulus ${this.stimulusId})`);
    }
    this.options.trace?.(record.task.key, record.state, to, this.stimulusId);
    record.state = to;
  }

  private forget(record: WorkerTask): void {
    this.tasks.delete(record.task.key);
    this.options.trace?.(record.task.key, record.state, 'forgotten', this.stimulusId);
  }
}
