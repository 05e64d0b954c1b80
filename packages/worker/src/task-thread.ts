// The entry point of a task thread (a worker_threads Worker): runs the batches the main thread sends
// (batch-runner.ts). Once its code is loaded and warmed up it says so (ThreadReadyMessage), so the worker tells
// the scheduler it is ready only when its threads can start tasks at once.
import { parentPort, workerData } from 'node:worker_threads';
import { warmUpEnabled } from '@loom/protocol';
import { BatchRunner } from './batch-runner.js';
import { FunctionLoader } from './function-loader.js';
import type { RunBatchMessage, ThreadData, ThreadReadyMessage } from './thread-messages.js';
import { warmUpTaskThread } from './thread-warm-up.js';

if (!parentPort) throw new Error('task-thread.js runs inside a worker thread');
const port = parentPort;
const runner = new BatchRunner({
  loader: new FunctionLoader(),
  progress: new Int32Array((workerData as ThreadData).progress),
  post: (message, transfer) => port.postMessage(message, transfer),
});

if (warmUpEnabled()) {
  try {
    await warmUpTaskThread();
  } catch (error) {
    // A bug in the warm-up costs speed, never tasks: the thread runs the same as without one.
    process.stderr.write(`loom task thread: the start-up warm-up failed: ${String(error)}\n`);
  }
}
port.on('message', (message: RunBatchMessage) => {
  void runner.runBatch(message);
});
const ready: ThreadReadyMessage = { ready: true };
port.postMessage(ready);
