// The entry point of a task thread (a worker_threads Worker). It runs the batches the main thread sends, one
// task at a time, and posts results back in batches: at the end of a batch, after 5 ms without a report, and
// before a task that may be slow, so a long task never holds back the results of short ones before it.
import { parentPort, workerData } from 'node:worker_threads';
import { decodeTaskArgs, decodeValue, encodeValue, LoomError } from '@loom/protocol';
import { FunctionLoader } from './function-loader.js';
import { failingStep, isThenable } from './fused-chain.js';
import { describeTaskFailure } from './task-failure.js';
import type { ResultsMessage, RunBatchMessage, ThreadData, ThreadResult, ThreadTask } from './thread-messages.js';
import type { TaskFunction } from './task-types.js';
import { packResults, unpackTasks } from './thread-wire.js';

const FLUSH_AFTER_MS = 5;
/** A function whose last run took longer than this is expected to be slow again. */
const SLOW_TASK_MS = 1;

if (!parentPort) throw new Error('task-thread.js runs inside a worker thread');
const port = parentPort;
const progress = new Int32Array((workerData as ThreadData).progress);
const loader = new FunctionLoader();
/** Last duration per function id on this thread; unknown means "might be slow". */
const lastDurationMs = new Map<string, number>();

port.on('message', (message: RunBatchMessage) => {
  void runBatch(message);
});

class ResultBuffer {
  private results: ThreadResult[] = [];
  lastFlush = performance.now();

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
    const message: ResultsMessage = { results: packed, done };
    port.postMessage(message, transfer);
    this.results = [];
    this.lastFlush = performance.now();
  }
}

async function runBatch({ functions, tasks: packed }: RunBatchMessage): Promise<void> {
  for (const spec of functions) loader.define(spec);
  const tasks = unpackTasks(packed);
  const buffer = new ResultBuffer();
  for (let index = 0; index < tasks.length; index++) {
    const task = tasks[index] as ThreadTask;
    const last = lastDurationMs.get(task.functionId);
    if (buffer.pending && (last === undefined || last > SLOW_TASK_MS)) buffer.flush(false);
    // Tells the main thread which task to blame should this thread die while running it.
    Atomics.store(progress, 0, index);
    const result = await runTask(task);
    lastDurationMs.set(task.functionId, result.durationMs);
    buffer.push(result);
    if (performance.now() - buffer.lastFlush > FLUSH_AFTER_MS) buffer.flush(false);
  }
  buffer.flush(true);
}

async function runTask(task: ThreadTask): Promise<ThreadResult> {
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
