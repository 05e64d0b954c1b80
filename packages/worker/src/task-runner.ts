// The life of each task assigned to this worker: gathering its inputs (local store or peers), waiting in the
// scheduler's order for a free thread, running, and being reported. It owns the rules for cancel, free and
// hand-back, and does its I/O only through the interfaces it is given, so it can be driven without a network.
//
//   assign ──> (waiting) ──> gathering ──> ready ──> running ──> (stored + reported finished | reported failed)
//                 │             │            │          └─ cancelled: finishes, result dropped unreported
//                 │             └─ inputs unobtainable: reported missing, dropped
//                 └─ its inputs would be read back from disk or fetched while the load budget is spent
//   cancel / hand-back drop gathering and ready tasks; a running task's thread dying requeues its unstarted batch
//   (back to gathering if its thread took inputs it owned).
import { LoomError, type EncodedValue, type Logger } from '@loom/protocol';
import type { DataStore } from './data-store.js';
import type { InputFetcher } from './peer-fetch.js';
import type { TaskExecutor } from './thread-pool.js';
import type { ThreadResult, ThreadTask } from './thread-messages.js';
import type { FunctionSpec, TaskAssignment, TaskReporter } from './task-types.js';

type TaskState = 'waiting' | 'gathering' | 'ready' | 'running';

/** About this much expected work goes to a thread in one batch. */
const BATCH_BUDGET_MS = 5;

interface TaskRecord {
  task: TaskAssignment;
  /** Arrival order: tasks run in the order the scheduler sent them, which already reflects priority. */
  seq: number;
  state: TaskState;
  /** The scheduler cancelled it while running: its result is dropped, neither stored nor reported. */
  cancelled: boolean;
  inputs: EncodedValue[] | undefined;
  /** Some inputs were handed to a thread (detached here): a requeued task must gather them again. */
  inputsMoved: boolean;
  /** Bytes of inputs it loads (read back from disk, fetched) and holds until it runs, counted in the load budget. */
  loadBytes: number;
}

export interface TaskRunnerOptions {
  store: DataStore;
  fetcher: InputFetcher;
  executor: TaskExecutor;
  reporter: TaskReporter;
  /** This worker's address: named in task errors and as the failed holder of a local input that vanished. */
  address: string;
  logger: Logger;
  /**
   * Inputs read back from disk or fetched from peers for tasks that are not running yet are held to about this
   * many bytes (one task at a time may exceed it). Default: no bound.
   */
  loadBudgetBytes?: number;
}

export class TaskRunner {
  private readonly tasks = new Map<string, TaskRecord>();
  private ready: TaskRecord[] = [];
  /**
   * Tasks whose inputs must be loaded, in arrival order, waiting for the load budget. Without it a worker handed
   * hundreds of tasks over spilled partitions reads them all back at once and runs out of memory before
   * the first one runs (Dask bounds its incoming transfers the same way: distributed.worker.memory.transfer).
   */
  private waiting: TaskRecord[] = [];
  /** Bytes of inputs loaded (or being loaded) for tasks not yet handed to a thread. */
  private loadedBytes = 0;
  private running = 0;
  private nextSeq = 0;
  private inlineValueBytes = 0;
  private closing = false;
  /** Memory is short: tasks stay ready but none starts (the memory manager decides). */
  private paused = false;
  private dispatchScheduled = false;
  private idleWaiters: Array<() => void> = [];
  /** Recent task duration per function id, to size thread batches. */
  private readonly expectedMs = new Map<string, number>();
  /**
   * Input values fetched from peers or read back from spill → how many tasks still hold them. Nothing else
   * refers to such a buffer, so the last task to be dispatched owns the value and its thread gets the buffer
   * without a copy. Weak, so a task dropped without giving its count back leaks nothing (its value is then just
   * copied once more).
   */
  private readonly fetchedUsers = new WeakMap<Uint8Array, number>();

  constructor(private readonly options: TaskRunnerOptions) {}

  /** Values at most this large travel inline in TaskFinished when the scheduler asks for them. */
  setInlineValueBytes(bytes: number): void {
    this.inlineValueBytes = bytes;
  }

  /** While paused no task starts; running ones finish. Resuming starts ready tasks at once. */
  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    if (!paused) {
      this.admitWaiting();
      this.scheduleDispatch();
    }
  }

  define(functions: FunctionSpec[]): void {
    if (functions.length > 0) this.options.executor.define(functions);
  }

  /** Tasks started by a thread (or handed to one), for the heartbeat. */
  get executing(): number {
    return this.running;
  }

  /** Tasks assigned but not yet handed to a thread (waiting to load inputs, gathering, or waiting for a thread). */
  get queued(): number {
    return this.tasks.size - this.running;
  }

  assign(assignments: readonly TaskAssignment[]): void {
    if (this.closing) {
      this.options.reporter.handBack(assignments.map((task) => task.key));
      return;
    }
    for (const task of assignments) {
      const existing = this.tasks.get(task.key);
      if (existing) {
        // Assigned again while we still have it: a cancelled running task becomes wanted again.
        if (existing.cancelled) existing.cancelled = false;
        continue;
      }
      if (this.options.store.has(task.key)) {
        void this.reportHeld(task);
        continue;
      }
      const record: TaskRecord = { task, seq: this.nextSeq++, state: 'waiting', cancelled: false, inputs: undefined, inputsMoved: false, loadBytes: 0 };
      this.tasks.set(task.key, record);
      // Loading waits its turn behind tasks already waiting; a task whose inputs are all in memory never waits.
      const cost = this.loadCost(task);
      if (cost === 0 || (this.waiting.length === 0 && this.fits(cost))) this.startGathering(record, cost);
      else {
        this.trace(record, 'assigned', 'waiting');
        this.waiting.push(record);
      }
    }
  }

  cancel(keys: readonly string[]): void {
    let droppedQueued = false;
    for (const key of keys) {
      const record = this.tasks.get(key);
      if (!record) continue;
      if (record.state === 'running') {
        record.cancelled = true;
        this.trace(record, 'running', 'running (cancelled)');
      } else {
        this.tasks.delete(key);
        droppedQueued ||= record.state === 'ready';
        this.releaseInputs(record);
        this.releaseLoad(record);
        this.trace(record, record.state, 'cancelled');
      }
    }
    if (droppedQueued) this.ready = this.ready.filter((record) => this.tasks.get(record.task.key) === record);
    this.admitWaiting();
  }

  free(keys: readonly string[]): void {
    for (const key of keys) {
      if (this.options.store.delete(key) && this.options.logger.isLevelEnabled('debug')) {
        this.options.logger.debug({ key }, 'freed');
      }
    }
  }

  /** Stops starting tasks and gives up every task not yet handed to a thread; returns their keys. */
  handBackQueued(): string[] {
    this.closing = true;
    const keys: string[] = [];
    for (const [key, record] of this.tasks) {
      if (record.state === 'running') continue;
      this.tasks.delete(key);
      this.releaseInputs(record);
      this.releaseLoad(record);
      keys.push(key);
    }
    this.ready = [];
    this.waiting = [];
    return keys;
  }

  /** Resolves once no task is running (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  onResults(results: readonly ThreadResult[]): void {
    for (const result of results) {
      const record = this.tasks.get(result.key);
      if (!record || record.state !== 'running') continue;
      this.learnDuration(record.task.functionId, result.durationMs);
      this.tasks.delete(result.key);
      this.running -= 1;
      record.inputs = undefined;
      if (record.cancelled) {
        this.trace(record, 'running', 'dropped (cancelled)');
        continue;
      }
      if (result.ok) {
        this.trace(record, 'running', 'finished');
        const value: EncodedValue = { codec: result.codec, bytes: result.bytes };
        this.options.store.put(result.key, value);
        const nbytes = result.bytes.byteLength;
        this.options.reporter.finished({
          key: result.key,
          nbytes,
          codec: result.codec,
          durationMs: result.durationMs,
          ...(record.task.sendValue && nbytes <= this.inlineValueBytes ? { value: result.bytes } : {}),
        });
      } else {
        this.trace(record, 'running', 'failed');
        const { code, message, stack, errorName, taskKey = result.key } = result.error;
        const error = new LoomError(code, message, { taskKey, remoteStack: stack, errorName, worker: this.options.address });
        this.options.reporter.failed({ key: result.key, error });
      }
    }
    this.afterThreadActivity();
  }

  /** Tasks a dying thread never ran: back into the queue in their original order, or back to the scheduler. */
  onRequeue(tasks: readonly ThreadTask[]): void {
    const handBack: string[] = [];
    for (const task of tasks) {
      const record = this.tasks.get(task.key);
      if (!record || record.state !== 'running') continue;
      this.running -= 1;
      if (record.cancelled || this.closing) {
        this.tasks.delete(task.key);
        if (!record.cancelled) handBack.push(task.key);
        continue;
      }
      if (record.inputsMoved) {
        // Its thread took inputs this task owned; they died with it. Gathered again at once, outside the load
        // budget: it was running already, and a thread death is rare.
        this.trace(record, 'running', 'gathering');
        record.state = 'gathering';
        record.inputs = undefined;
        record.inputsMoved = false;
        this.gather(record);
        continue;
      }
      this.trace(record, 'running', 'ready');
      record.state = 'ready';
      this.enqueue(record);
    }
    if (handBack.length > 0) this.options.reporter.handBack(handBack);
    this.afterThreadActivity();
  }

  private afterThreadActivity(): void {
    if (this.running === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.scheduleDispatch();
  }

  /**
   * Whether loading inputs of `cost` bytes fits the budget now. The first load always fits, so an input larger
   * than the budget is still loaded, alone. Paused (memory is short), nothing that costs memory is loaded.
   */
  private fits(cost: number): boolean {
    if (cost === 0) return true;
    if (this.paused) return false;
    return this.loadedBytes === 0 || this.loadedBytes + cost <= (this.options.loadBudgetBytes ?? Infinity);
  }

  private startGathering(record: TaskRecord, cost: number): void {
    this.loadedBytes += cost;
    record.loadBytes = cost;
    this.trace(record, record.state, 'gathering');
    record.state = 'gathering';
    this.gather(record);
  }

  /** Starts waiting tasks in arrival order while the budget allows (skipping ones cancelled meanwhile). */
  private admitWaiting(): void {
    let started = 0;
    for (const record of this.waiting) {
      if (this.tasks.get(record.task.key) === record) {
        // Costs are looked at again: an input may have arrived in memory (another task's result) meanwhile.
        const cost = this.loadCost(record.task);
        if (!this.fits(cost)) break;
        this.startGathering(record, cost);
      }
      started += 1;
    }
    if (started > 0) this.waiting = this.waiting.slice(started);
  }

  /** Bytes of the task's inputs not in memory here: to be read back from disk or fetched from a peer. */
  private loadCost(task: TaskAssignment): number {
    let bytes = 0;
    for (const input of task.inputs) if (!this.options.store.inMemory(input.key)) bytes += input.nbytes;
    return bytes;
  }

  private releaseLoad(record: TaskRecord): void {
    this.loadedBytes -= record.loadBytes;
    record.loadBytes = 0;
  }

  private gather(record: TaskRecord): void {
    const { inputs } = record.task;
    if (inputs.length === 0) {
      record.inputs = [];
      this.markReady(record);
      return;
    }
    const { store, fetcher, address } = this.options;
    const values: EncodedValue[] = new Array<EncodedValue>(inputs.length);
    const missingKeys: string[] = [];
    const failedHolders = new Set<string>();
    const loads = inputs.map(async (input, index) => {
      if (store.has(input.key)) {
        // A spilled value is read back into memory of its own, which nothing else holds: like a fetched value,
        // it is the task's to hand to its thread without a copy.
        const readBack = !store.inMemory(input.key);
        const value = await store.get(input.key);
        if (value) {
          values[index] = value;
          if (readBack) this.fetchedUsers.set(value.bytes, (this.fetchedUsers.get(value.bytes) ?? 0) + 1);
          return;
        }
        failedHolders.add(address);
      }
      const outcome = await fetcher.fetch(input.key, input.holders);
      if (outcome.ok) {
        values[index] = outcome.value;
        this.fetchedUsers.set(outcome.value.bytes, (this.fetchedUsers.get(outcome.value.bytes) ?? 0) + 1);
      } else {
        missingKeys.push(input.key);
        for (const holder of outcome.failedHolders) failedHolders.add(holder);
      }
    });
    Promise.all(loads).then(
      () => {
        // Cancelled or handed back while we waited: nothing to do.
        if (this.tasks.get(record.task.key) !== record) return;
        if (missingKeys.length > 0) {
          this.tasks.delete(record.task.key);
          this.releaseLoad(record);
          this.admitWaiting();
          this.trace(record, 'gathering', 'missing');
          this.options.reporter.missing({ key: record.task.key, missingKeys, failedHolders: [...failedHolders] });
          return;
        }
        record.inputs = values;
        this.markReady(record);
      },
      (error: unknown) => {
        // Fetching never rejects by design; should a store misbehave, the scheduler still hears of the task.
        this.options.logger.error({ key: record.task.key, err: error }, 'gathering inputs failed unexpectedly');
        if (this.tasks.get(record.task.key) !== record) return;
        this.tasks.delete(record.task.key);
        this.releaseLoad(record);
        this.admitWaiting();
        this.options.reporter.missing({ key: record.task.key, missingKeys: inputs.map((input) => input.key), failedHolders: [...failedHolders] });
      },
    );
  }

  private markReady(record: TaskRecord): void {
    this.trace(record, 'gathering', 'ready');
    record.state = 'ready';
    this.enqueue(record);
    this.scheduleDispatch();
  }

  /** Keeps `ready` in arrival order; a task almost always belongs at the end, so the scan is short. */
  private enqueue(record: TaskRecord): void {
    let index = this.ready.length;
    while (index > 0 && (this.ready[index - 1] as TaskRecord).seq > record.seq) index--;
    this.ready.splice(index, 0, record);
  }

  /** Dispatch once per event-loop turn, so tasks that become ready together travel to a thread together. */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled || this.paused || this.ready.length === 0) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  /**
   * Hands ready tasks to idle threads. A thread gets up to its fair share of the queue, but only about
   * BATCH_BUDGET_MS of expected work: tiny tasks travel by the hundred (one message instead of hundreds), while a
   * slow task, or one whose function has not run yet, goes alone so it never holds queued tasks hostage on one
   * thread while another sits idle.
   */
  private dispatch(): void {
    const { executor } = this.options;
    if (this.paused) return;
    let idle = executor.idleCount;
    while (idle > 0 && this.ready.length > 0) {
      const share = Math.ceil(this.ready.length / idle);
      let count = 0;
      let expected = 0;
      while (count < share && count < this.ready.length) {
        const estimate = this.expectedMs.get((this.ready[count] as TaskRecord).task.functionId) ?? BATCH_BUDGET_MS;
        if (count > 0 && expected + estimate > BATCH_BUDGET_MS) break;
        expected += estimate;
        count += 1;
      }
      const batch = this.ready.splice(0, count);
      const threadTasks: ThreadTask[] = batch.map((record) => {
        this.trace(record, 'ready', 'running');
        record.state = 'running';
        const inputs = record.inputs ?? [];
        const ownedInputs = this.releaseInputs(record);
        record.inputsMoved = ownedInputs.includes(true);
        // Its inputs are the running task's memory now; the next waiting task may load.
        this.releaseLoad(record);
        return { key: record.task.key, functionId: record.task.functionId, args: record.task.args, inputs, ownedInputs };
      });
      this.running += batch.length;
      executor.run(threadTasks);
      idle -= 1;
    }
    this.admitWaiting();
  }

  /**
   * The record stops holding its inputs (dispatched or dropped). Returns, per input, whether it was the last
   * holder of a fetched value: that value is then its own to hand to a thread.
   */
  private releaseInputs(record: TaskRecord): boolean[] {
    return (record.inputs ?? []).map(({ bytes }) => {
      const users = this.fetchedUsers.get(bytes);
      if (users === undefined) return false;
      if (users > 1) {
        this.fetchedUsers.set(bytes, users - 1);
        return false;
      }
      this.fetchedUsers.delete(bytes);
      return true;
    });
  }

  private learnDuration(functionId: string, durationMs: number): void {
    const previous = this.expectedMs.get(functionId);
    this.expectedMs.set(functionId, previous === undefined ? durationMs : (previous + durationMs) / 2);
  }

  /** The scheduler assigned a key we already hold (it lost track): report it as finished from the store. */
  private async reportHeld(task: TaskAssignment): Promise<void> {
    const value = await this.options.store.get(task.key);
    if (!value) return;
    const nbytes = value.bytes.byteLength;
    this.options.reporter.finished({
      key: task.key,
      nbytes,
      codec: value.codec,
      durationMs: 0,
      ...(task.sendValue && nbytes <= this.inlineValueBytes ? { value: value.bytes } : {}),
    });
  }

  private trace(record: TaskRecord, from: string, to: string): void {
    if (this.options.logger.isLevelEnabled('debug')) this.options.logger.debug({ key: record.task.key }, `${from} -> ${to}`);
  }
}
