// Runs the batches of a task thread, one task at a time, and posts results back in batches: at the end of a
// batch, after 5 ms without a report, and before a task that may be slow, so a long task never holds back the
// results of short ones before it. task-thread.ts runs one on its port; the thread's warm-up runs a private one.
import { decodeTaskArgs, decodeValue, encodeValue, LoomError } from '@loom/protocol';
import type { FunctionLoader } from './function-loader.js';
import { failingStep, isThenable } from './fused-chain.js';
import { describeTaskFailure } from './task-failure.js';
import type { ResultsMessage, RunBatchMessage, ThreadResult, ThreadTask } from './thread-messages.js';
import type { TaskFunction } from './task-types.js';
import { packResults, unpackTasks } from './thread-wire.js';

const FLUSH_AFTER_MS = 5;
/** A function whose last run took longer than this is expected to be slow again. */
const SLOW_TASK_MS = 1;

export interface BatchRunnerParts {
  loader: FunctionLoader;
  /** Its first Int32 is set to the index of the running task, so the main thread knows whom to blame should the thread die. */
  progress: Int32Array;
  post(message: ResultsMessage, transfer: ArrayBuffer[]): void;
}

export class BatchRunner {
  /** Last duration per function id; unknown means "might be slow". */
  private readonly lastDurationMs = new Map<string, number>();

  constructor(private readonly parts: BatchRunnerParts) {}

  async runBatch({ functions, tasks: packed }: RunBatchMessage): Promise<void> {
    const { loader, progress } = this.parts;
    for (const spec of functions) loader.define(spec);
    const tasks = unpackTasks(packed);
    const buffer = new ResultBuffer(this.parts.post);
    for (let index = 0; index < tasks.length; index++) {
      const task = tasks[index] as ThreadTask;
      const last = this.lastDurationMs.get(task.functionId);
      if (buffer.pending && (last === undefined || last > SLOW_TASK_MS)) buffer.flush(false);
      Atomics.store(progress, 0, index);
      const result = await runTask(task, loader);
      this.lastDurationMs.set(task.functionId, result.durationMs);
      buffer.push(result);
      if (performance.now() - buffer.lastFlush > FLUSH_AFTER_MS) buffer.flush(false);
    }
    buffer.flush(true);
  }
}

class ResultBuffer {
  private results: ThreadResult[] = [];
  lastFlush = performance.now();

  constructor(private readonly post: BatchRunnerParts['post']) {}

  get pending(): boolean {
    return this.results.length > 0;
  }

  push(result: ThreadResult): void {
    this.results.push(result);
  }

  flush(done: boolean): void {
    const packed = packResults(this.results);
    const transfer: ArrayBuffer[] = [packed.data];
    // Large results travel as their own buffers: handed over, not copied, when they own their whole memory
    // (v8.serialize's output does); otherwise structured clone copies them once.
    for (const bytes of packed.large) {
      if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
        transfer.push(bytes.buffer);
      }
    }
    this.post({ results: packed, done }, transfer);
    this.results = [];
    this.lastFlush = performance.now();
  }
}

async function runTask(task: ThreadTask, loader: FunctionLoader): Promise<ThreadResult> {
  const started = performance.now();
  try {
    let fn = loader.load(task.functionId);
    if (typeof fn !== 'function') fn = await fn;
    let args: unknown[];
    try {
      args = decodeTaskArgs(task.args, task.inputs.map((input) => decodeValue(input)));
    } catch (error) {
      throw new LoomError('SERIALIZATION_FAILED', `cannot decode the arguments of task '${task.key}': ${(error as Error).message}`, {
        remoteStack: (error as Error).stack ?? '',
      });
    }
    let value = (fn as TaskFunction)(...args);
    if (isThenable(value)) value = await value;
    const encoded = encodeValue(value, `the result of task '${task.key}'`);
    return { key: task.key, ok: true, codec: encoded.codec, bytes: encoded.bytes, durationMs: performance.now() - started };
  } catch (error) {
    const step = failingStep(error);
    const failure = step
      ? { ...describeTaskFailure(error, step.key, step.spec), taskKey: step.key }
      : describeTaskFailure(error, task.key, loader.spec(task.functionId));
    return { key: task.key, ok: false, error: failure, durationMs: performance.now() - started };
  }
}
