// The I/O shell around the worker state machine (worker-state-machine.ts): turns scheduler instructions, thread
// results, loaded inputs and pause changes into events, and carries out the instructions that come back: running
// batches on threads, loading inputs, reading held values, storing results and reporting them. It decides
// nothing about tasks itself.
import { LoomError, type Logger } from '@loom/protocol';
import type { DataStore } from './data-store.js';
import { loadInputs } from './input-loader.js';
import type { InputFetcher } from './peer-fetch.js';
import type { TaskExecutor } from './thread-pool.js';
import type { ThreadResult } from './thread-messages.js';
import type { FunctionSpec, SchedulerInstructions, TaskReporter } from './task-types.js';
import { schedulerMessageEvents, type WorkerEvent } from './worker-events.js';
import type { WorkerInstruction } from './worker-instructions.js';
import { WorkerState } from './worker-state-machine.js';

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
  /** Check the state machine's invariants after every event (tests). */
  validate?: boolean;
}

export class TaskRunner {
  private readonly state: WorkerState;
  private dispatchScheduled = false;
  private idleWaiters: Array<() => void> = [];
  private stimuli = 0;

  constructor(private readonly options: TaskRunnerOptions) {
    const { logger } = options;
    this.state = new WorkerState({
      nthreads: options.executor.threadCount,
      held: options.store,
      ...(options.loadBudgetBytes !== undefined ? { loadBudgetBytes: options.loadBudgetBytes } : {}),
      ...(logger.isLevelEnabled('debug')
        ? { trace: (key: string, from: string, to: string, stimulusId: string) => logger.debug({ key, stimulusId }, `${from} -> ${to}`) }
        : {}),
      ...(options.validate ? { validate: true } : {}),
    });
  }

  /** Values at most this large travel inline in TaskFinished when the scheduler asks for them. */
  setInlineValueBytes(bytes: number): void {
    this.state.inlineValueBytes = bytes;
  }

  /** While paused no task starts and no input is loaded; running ones finish. Resuming starts them at once. */
  setPaused(paused: boolean): void {
    if (this.state.paused !== paused) this.handle({ type: 'pause', paused, stimulusId: this.stimulus('pause') });
  }

  define(functions: FunctionSpec[]): void {
    if (functions.length > 0) this.options.executor.define(functions);
  }

  /** Tasks handed to a thread and not yet reported, for the heartbeat. */
  get executing(): number {
    return this.state.executingCount;
  }

  /** Tasks assigned but not yet handed to a thread. */
  get queued(): number {
    return this.state.queuedCount;
  }

  /** One scheduler message, in the order `schedulerMessageEvents` gives (it cannot lose a re-submitted task). */
  apply(instructions: SchedulerInstructions): void {
    const stimulusId = this.stimulus('scheduler');
    for (const event of schedulerMessageEvents(instructions, stimulusId)) this.handle(event);
  }

  /**
   * Results from the task thread in `slot` (from 0); `batchDone` when the thread finished its batch (or died and
   * was replaced).
   */
  onResults(results: readonly ThreadResult[], batchDone: boolean, slot: number): void {
    this.handle({ type: 'executed', results, threadFreed: batchDone, slot, stimulusId: this.stimulus('executed') });
  }

  /** Tasks a dying thread never ran. */
  onRequeue(tasks: readonly { key: string }[]): void {
    this.handle({ type: 'requeued', tasks, stimulusId: this.stimulus('requeued') });
  }

  /** Stops starting tasks and hands back every task not yet handed to a thread; returns how many. */
  close(): number {
    const before = this.state.queuedCount;
    this.handle({ type: 'close', stimulusId: this.stimulus('close') });
    return before;
  }

  /** Resolves once no task is executing (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.state.executingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private stimulus(kind: string): string {
    return `${kind}-${++this.stimuli}`;
  }

  private handle(event: WorkerEvent): void {
    const instructions = this.state.handle(event);
    for (const instruction of instructions) this.carryOut(instruction);
    if (this.state.executingCount === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.scheduleDispatch();
  }

  private carryOut(instruction: WorkerInstruction): void {
    const { store, reporter } = this.options;
    switch (instruction.type) {
      case 'execute':
        this.options.executor.run(instruction.tasks);
        break;
      case 'load-inputs': {
        const { key, attempt } = instruction;
        void loadInputs(key, instruction.inputs, this.options).then((outcome) => {
          const stimulusId = this.stimulus('inputs');
          this.handle(
            outcome.ok
              ? { type: 'inputs-loaded', key, attempt, values: outcome.values, privateValues: outcome.privateValues, stimulusId }
              : { type: 'inputs-missing', key, attempt, missingKeys: outcome.missingKeys, failedHolders: outcome.failedHolders, stimulusId },
          );
        });
        break;
      }
      case 'read-held': {
        const { key, attempt } = instruction;
        // A read that fails (a missing or corrupt spill file) resolves undefined; the store reports the key lost.
        void store.get(key).then(
          (value) => this.handle({ type: 'held-read', key, attempt, value, stimulusId: this.stimulus('held-read') }),
          (error: unknown) => {
            this.options.logger.error({ key, err: error }, 'reading a held value failed unexpectedly');
            this.handle({ type: 'held-read', key, attempt, value: undefined, stimulusId: this.stimulus('held-read') });
          },
        );
        break;
      }
      case 'send-finished':
        if (instruction.store) store.put(instruction.key, instruction.value);
        reporter.finished(instruction);
        break;
      case 'send-failed': {
        const { key, runId, error } = instruction;
        const { code, message, stack, errorName, remoteCode, taskKey = key } = error;
        const details = { taskKey, remoteStack: stack, errorName, worker: this.options.address, ...(remoteCode ? { remoteCode } : {}) };
        reporter.failed({ key, runId, thread: instruction.thread, error: new LoomError(code, message, details) });
        break;
      }
      case 'send-missing':
        reporter.missing(instruction);
        break;
      case 'hand-back':
        reporter.handBack(instruction.keys);
        break;
      case 'release':
        for (const key of instruction.keys) {
          if (store.delete(key) && this.options.logger.isLevelEnabled('debug')) this.options.logger.debug({ key }, 'freed');
        }
        break;
    }
  }

  /** Dispatch once per event-loop turn, so tasks that become ready together travel to a thread together. */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled || !this.state.wantsDispatch) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.handle({ type: 'dispatch', stimulusId: this.stimulus('dispatch') });
    });
  }
}
