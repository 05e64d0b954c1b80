// A task thread's start-up warm-up: a private BatchRunner, with its own function loader, runs a few thousand
// trivial tasks through the real path (unpacking a batch, loading the function, decoding arguments, encoding
// and packing results), so the thread's first real batch runs compiled code rather than interpreted. Batches and
// results cross a MessageChannel of the thread's own, so they arrive structured-cloned exactly as the real ones
// do (V8 specialises compiled code to the shapes it has seen). Each thread is a V8 isolate of its own, so each
// one warms up, replacements too.
import { MessageChannel } from 'node:worker_threads';
import { decodeValue, encodeTaskArgs } from '@loom/protocol';
import { BatchRunner } from './batch-runner.js';
import { FunctionLoader } from './function-loader.js';
import type { ResultsMessage, RunBatchMessage, ThreadTask } from './thread-messages.js';
import type { FunctionSpec } from './task-types.js';
import { packTasks, unpackResults } from './thread-wire.js';

const INC: FunctionSpec = { id: 'loom-warm-up/inc', name: 'inc', body: { kind: 'source', source: '(x) => x + 1' } };

/** Resolves with how many of its tasks came back with their right result. */
export async function warmUpTaskThread(tasks = 500, batchSize = 250): Promise<number> {
  const { port1: main, port2: thread } = new MessageChannel();
  const runner = new BatchRunner({ loader: new FunctionLoader(), progress: new Int32Array(1), post: (message, transfer) => thread.postMessage(message, transfer) });
  thread.on('message', (message: RunBatchMessage) => void runner.runBatch(message));
  let batchDone: () => void = () => undefined;
  let right = 0;
  main.on('message', (message: ResultsMessage) => {
    for (const result of unpackResults(message.results)) if (result.ok && Number(decodeValue(result)) === Number(result.key.slice(4)) + 1) right++;
    if (message.done) batchDone();
  });
  try {
    for (let start = 0; start < tasks; start += batchSize) {
      const batch: ThreadTask[] = [];
      for (let i = start; i < Math.min(tasks, start + batchSize); i++) {
        const key = `inc-${String(i).padStart(32, '0')}`;
        batch.push({ key, functionId: INC.id, args: encodeTaskArgs([i], [], key), inputs: [] });
      }
      const { packed, transfer } = packTasks(batch);
      const message: RunBatchMessage = { functions: start === 0 ? [INC] : [], tasks: packed };
      const done = new Promise<void>((resolve) => (batchDone = resolve));
      main.postMessage(message, transfer);
      await done;
    }
    return right;
  } finally {
    main.close();
    thread.close();
  }
}
