// The worker's task threads: one worker_threads Worker per slot, each running one batch at a time. The pool
// sends each thread only the function definitions it has not seen, and replaces a thread that dies, failing the
// task it was running and giving back the tasks of its batch that never ran.
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Logger } from '@loom/protocol';
import type { FunctionSpec } from './task-types.js';
import type { ResultsMessage, RunBatchMessage, ThreadData, ThreadReadyMessage, ThreadResult, ThreadTask } from './thread-messages.js';
import { packTasks, unpackResults } from './thread-wire.js';

export interface ThreadPoolEvents {
  /**
   * Results of tasks, in the order each thread ran them (also the failure of a task whose thread died).
   * `batchDone`: that thread has finished its batch, or died and was replaced; either way one more thread is idle.
   * `slot`: which of the pool's threads ran them, from 0 (a replacement thread takes the slot of the one it replaces).
   */
  results(results: ThreadResult[], batchDone: boolean, slot: number): void;
  /**
   * Tasks handed to a thread that died before reporting them: they may run again elsewhere. Inputs they owned
   * (`ownedInputs`) went to the thread with them and are detached: those have to be obtained again.
   */
  requeue(tasks: ThreadTask[]): void;
  /**
   * A replacement thread died before it could start: the pool cannot run anything, the worker should stop. (A
   * thread of the pool's own start failing rejects `ready` instead.)
   */
  fatal(error: Error): void;
}

/**
 * What the task runner needs from the pool; a test double may stand in. The runner counts idle threads itself
 * (one per batch it started, back with the batch's `batchDone`).
 */
export interface TaskExecutor {
  readonly threadCount: number;
  define(functions: FunctionSpec[]): void;
  /** Runs `tasks`, in order, on one idle thread. */
  run(tasks: ThreadTask[]): void;
}

interface TaskThread {
  id: number;
  /** Its place in the pool, 0 to size - 1, kept by its replacement: the dashboard draws one row per slot. */
  slot: number;
  worker: Worker;
  progress: Int32Array;
  /** The thread said it is ready (its code is loaded): dying before that means it cannot start at all. */
  online: boolean;
  knownFunctions: Set<string>;
  /** The batch in progress, undefined while idle. */
  batch: ThreadTask[] | undefined;
  /** How many tasks of the batch have been reported. */
  reported: number;
  uncaught: Error | undefined;
  /** Called once, when the thread says it is ready. */
  onReady: (() => void) | undefined;
}

const THREAD_URL = new URL('./task-thread.js', import.meta.url);

/**
 * Heap limits for task threads under a worker memory limit. V8 grows a thread's heap well ahead of what it
 * keeps alive (a CSV block parsed into row objects left ~100 MiB of garbage, measured), and that garbage counts
 * in RSS like live data: capping the old generation at a share of the limit makes V8 collect first. Arrow and
 * result buffers live outside the V8 heap and are not capped. A task that truly needs more heap fails with a
 * clear "thread ran out of memory" error instead of taking the worker down.
 */
function isHeapExhausted(error: Error | undefined): boolean {
  return (error as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
}

export function threadHeapLimits(memoryLimit: number, nthreads: number): ResourceLimits {
  const share = Math.floor((memoryLimit * 0.3) / nthreads / 2 ** 20);
  return { maxOldGenerationSizeMb: Math.max(64, share), maxYoungGenerationSizeMb: Math.max(8, Math.min(32, Math.floor(share / 8))) };
}

export class ThreadPool implements TaskExecutor {
  private readonly threads = new Set<TaskThread>();
  private readonly idle: TaskThread[] = [];
  private readonly functions = new Map<string, FunctionSpec>();
  private nextId = 0;
  private closing = false;
  /** Resolves once every thread the pool starts with is ready; rejects if one of them cannot start. */
  readonly ready: Promise<void>;
  private started = false;
  private failStart: (error: Error) => void = () => undefined;

  constructor(
    private readonly size: number,
    private readonly events: ThreadPoolEvents,
    private readonly logger: Logger,
    /** V8 heap limits per thread, so garbage is collected before it counts against the worker's memory limit. */
    private readonly resourceLimits: ResourceLimits = {},
  ) {
    const threads = Array.from({ length: size }, (_, slot) => this.spawn(slot));
    this.ready = new Promise<void>((resolve, reject) => {
      this.failStart = reject;
      let waiting = threads.length;
      for (const thread of threads) {
        thread.onReady = () => {
          if (--waiting > 0) return;
          this.started = true;
          resolve();
        };
      }
    });
    // The owner may never ask (a pool closed at once); a start failure then goes nowhere rather than unhandled.
    this.ready.catch(() => undefined);
  }

  get threadCount(): number {
    return this.size;
  }

  define(functions: FunctionSpec[]): void {
    for (const spec of functions) if (!this.functions.has(spec.id)) this.functions.set(spec.id, spec);
  }

  run(tasks: ThreadTask[]): void {
    const thread = this.idle.pop();
    if (!thread) throw new Error('ThreadPool.run called with no idle thread');
    const functions: FunctionSpec[] = [];
    const send = (id: string): void => {
      if (thread.knownFunctions.has(id)) return;
      const spec = this.functions.get(id);
      // An unknown id is left for the thread to report as FUNCTION_LOAD_FAILED on the task itself.
      if (!spec) return;
      if (spec.body.kind === 'chain') spec.body.functionIds.forEach(send);
      functions.push(spec);
      thread.knownFunctions.add(id);
    };
    for (const task of tasks) send(task.functionId);
    thread.batch = tasks;
    thread.reported = 0;
    Atomics.store(thread.progress, 0, -1);
    const { packed, transfer } = packTasks(tasks);
    const message: RunBatchMessage = { functions, tasks: packed };
    thread.worker.postMessage(message, transfer);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (!this.started) this.failStart(new Error('the thread pool was closed before its threads were ready'));
    const threads = [...this.threads];
    this.threads.clear();
    this.idle.length = 0;
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  private spawn(slot: number): TaskThread {
    const progress = new SharedArrayBuffer(4);
    const workerData: ThreadData = { progress };
    const thread: TaskThread = {
      id: this.nextId++,
      slot,
      worker: new Worker(THREAD_URL, { workerData, name: `loom-task-thread-${this.nextId}`, resourceLimits: this.resourceLimits }),
      progress: new Int32Array(progress),
      online: false,
      knownFunctions: new Set(),
      batch: undefined,
      reported: 0,
      uncaught: undefined,
      onReady: undefined,
    };
    this.threads.add(thread);
    this.idle.push(thread);
    thread.worker.on('message', (message: ResultsMessage | ThreadReadyMessage) => {
      if ('ready' in message) {
        thread.online = true;
        thread.onReady?.();
      } else {
        this.onResults(thread, message);
      }
    });
    thread.worker.on('error', (error) => (thread.uncaught = error));
    thread.worker.on('exit', (code) => this.onExit(thread, code));
    return thread;
  }

  private onResults(thread: TaskThread, message: ResultsMessage): void {
    const results = unpackResults(message.results);
    thread.reported += results.length;
    if (message.done) {
      thread.batch = undefined;
      this.idle.push(thread);
    }
    this.events.results(results, message.done, thread.slot);
  }

  private onExit(thread: TaskThread, exitCode: number): void {
    if (this.closing || !this.threads.delete(thread)) return;
    const idleIndex = this.idle.indexOf(thread);
    if (idleIndex >= 0) this.idle.splice(idleIndex, 1);
    const cause = thread.uncaught ? `an uncaught ${thread.uncaught.name}: ${thread.uncaught.message}` : `exit code ${exitCode}`;
    if (!thread.online) {
      const error = new Error(`a task thread failed to start (${cause})`, { cause: thread.uncaught });
      if (this.started) this.events.fatal(error);
      else this.failStart(error);
      return;
    }
    this.logger.warn({ thread: thread.id, cause }, 'task thread died; replacing it');
    this.spawn(thread.slot);
    const batch = thread.batch;
    if (!batch) return;
    // Results come back in task order, so everything from `reported` on is unreported. The task at `progress`
    // was running; those before it finished but their results died with the thread, those after never started.
    const running = Atomics.load(thread.progress, 0);
    const failed: ThreadResult[] = [];
    const requeue: ThreadTask[] = [];
    for (let index = thread.reported; index < batch.length; index++) {
      const task = batch[index] as ThreadTask;
      if (index === running) {
        failed.push({
          key: task.key,
          ok: false,
          durationMs: 0,
          error: {
            code: 'TASK_FAILED',
            message: isHeapExhausted(thread.uncaught)
              ? `task '${task.key}' failed: it needed more than its thread's ${this.resourceLimits.maxOldGenerationSizeMb ?? '?'} MiB ` +
                `of JavaScript heap (30 % of the worker's memory limit, shared by its threads). Use smaller partitions ` +
                `(e.g. a smaller blocksize) or give the worker a larger --memory-limit.`
              : `task '${task.key}' failed: its worker thread died while running it (${cause})`,
            stack: thread.uncaught?.stack ?? '',
            errorName: thread.uncaught?.name ?? 'ThreadExit',
          },
        });
      } else {
        requeue.push(task);
      }
    }
    if (requeue.length > 0) this.events.requeue(requeue);
    // Even with nothing to fail, the replacement thread is idle and the runner should hear about it.
    this.events.results(failed, true, thread.slot);
  }
}
