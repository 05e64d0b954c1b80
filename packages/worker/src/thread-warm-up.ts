// A task thread's start-up warm-up: a private BatchRunner, with its own function loader and a sink for results,
// runs a few thousand trivial tasks through the real path (unpacking a batch, loading the function, decoding
// arguments, encoding and packing results), so the thread's first real batch runs compiled code rather than
// interpreted. Each thread is a V8 isolate of its own, so each one warms up, replacements too.
import { encodeTaskArgs } from '@loom/protocol';
import { BatchRunner } from './batch-runner.js';
import { FunctionLoader } from './function-loader.js';
import type { ThreadTask } from './thread-messages.js';
import type { FunctionSpec } from './task-types.js';
import { packTasks } from './thread-wire.js';

const INC: FunctionSpec = { id: 'loom-warm-up/inc', name: 'inc', body: { kind: 'source', source: '(x) => x + 1' } };

export async function warmUpTaskThread(tasks = 2_000, batchSize = 250): Promise<void> {
  const runner = new BatchRunner({ loader: new FunctionLoader(), progress: new Int32Array(1), post: () => undefined });
  for (let start = 0; start < tasks; start += batchSize) {
    const batch: ThreadTask[] = [];
    for (let i = start; i < Math.min(tasks, start + batchSize); i++) {
      const key = `warm-up-${i}`;
      batch.push({ key, functionId: INC.id, args: encodeTaskArgs([i], [], key), inputs: [] });
    }
    await runner.runBatch({ functions: start === 0 ? [INC] : [], tasks: packTasks(batch).packed });
  }
}
