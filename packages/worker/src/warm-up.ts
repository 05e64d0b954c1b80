// The worker's start-up warm-up on its main thread, run while its task threads load. V8 runs new code
// interpreted until it is hot, so the first graph a fresh worker sees costs several times the CPU of the same
// graph later. Here a private task runner, with its own state machine, store and report batch, runs a few
// thousand synthetic tasks given to it the way the scheduler gives them: encoded and decoded with the real
// protobuf codecs and converted by the same function as real instructions; a stand-in for the thread pool packs
// each batch and its results with the real thread-wire code; the reports are encoded as the scheduler link sends
// them. Nothing reaches the real worker: the runner and its store are private and dropped afterwards, and no
// thread, socket or file of the worker is touched.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { encodeTaskArgs, encodeValue, nextTurn, schedulerService, silentLogger, type loom } from '@loom/protocol';
import type { InputFetcher } from './peer-fetch.js';
import { ReportBatch } from './report-batch.js';
import { instructionsFromWire } from './scheduler-link.js';
import { SpillStore } from './spill-store.js';
import { TaskRunner } from './task-runner.js';
import type { ResultsMessage, ThreadResult, ThreadTask } from './thread-messages.js';
import type { TaskExecutor } from './thread-pool.js';
import { packResults, packTasks, unpackResults } from './thread-wire.js';

const FUNCTION_ID = 'loom-warm-up/inc';
const INC: loom.v1.IFunctionDef = { id: FUNCTION_ID, name: 'inc', source: '(x) => x + 1' };
const ADDRESS = 'warm-up:0';
/** Tasks the scheduler sends at once: a worker is sent work for about its threads' next 0.1 s. */
const BATCH = 250;
/** Turns a batch may take before the warm-up gives up on it (it takes a handful). */
const TURN_LIMIT = 10_000;

const NO_PEERS: InputFetcher = {
  fetch: () => Promise.resolve({ ok: false, failedHolders: [] }),
};

/**
 * Runs about `tasks` synthetic tasks through the worker's main-thread path; resolves with how many reported
 * their result (all of them, unless a bug fails some: the scheduler would be told of a failure instead). Each
 * batch after the first also holds tasks whose inputs are results of the batch before, held in the private
 * store, as a tree reduction's tasks are.
 */
export async function warmUpWorker(nthreads: number, tasks = 2_000): Promise<number> {
  const logger = silentLogger();
  const store = new SpillStore({ directory: mkdtempSync(join(tmpdir(), 'loom-warm-up-')), compression: 'none', onLost: () => undefined, logger });
  const reports = new ReportBatch();
  const executor = new LoopbackExecutor(nthreads, (results) => runner.onResults(results, true, 0));
  const runner = new TaskRunner({ store, fetcher: NO_PEERS, executor, reporter: reports, address: ADDRESS, logger });
  runner.setInlineValueBytes(64 * 1024);
  const method = schedulerService.workerSession;
  let ran = 0;
  let finished = 0;
  let previous: string[] = [];
  let older: string[] = [];
  let runId = 0;
  try {
    for (let batch = 0; ran < tasks; batch++) {
      const compute: loom.v1.IComputeTask[] = [];
      const keys: string[] = [];
      for (let i = 0; i < BATCH; i++) {
        // Shaped as the client's keys are (a name, a dash, 32 hex digits).
        const key = `inc-${(batch * BATCH + i).toString(16).padStart(32, '0')}`;
        const inputs = i % 10 === 0 && previous.length > i + 1 ? [previous[i], previous[i + 1]] : [];
        keys.push(key);
        compute.push({
          key,
          functionId: FUNCTION_ID,
          args: encodeTaskArgs([i], [], key),
          inputs: inputs.map((input) => ({ key: input, nbytes: 8, holders: [ADDRESS] })),
          sendValue: true,
          resources: {},
          runId: ++runId,
        });
      }
      // The batch before last is no longer needed: freed in the same message, as the scheduler would.
      const message = method.responseDeserialize(method.responseSerialize({ functions: batch === 0 ? [INC] : [], compute, freeKeys: older }));
      const instructions = instructionsFromWire(message as loom.v1.SchedulerToWorker);
      if (instructions) {
        runner.define(instructions.functions);
        runner.apply(instructions);
      }
      // Until every task of the batch has reported, its reports encoded as the scheduler link sends them.
      for (let turn = 0; finished < ran + BATCH; turn++) {
        if (turn === TURN_LIMIT) throw new Error(`the worker warm-up made no progress (${ran + BATCH - finished} tasks unreported)`);
        await nextTurn();
        for (const report of reports.takeMessages()) {
          method.requestSerialize(report);
          finished += report.finished?.length ?? 0;
        }
      }
      ran += BATCH;
      older = previous;
      previous = keys;
    }
    return finished;
  } finally {
    executor.close();
    store.close();
  }
}

/**
 * Stands in for the thread pool: packs each batch as the pool does and answers it as a thread would, its results
 * packed and posted across a MessageChannel, so they arrive structured-cloned like a real thread's.
 */
class LoopbackExecutor implements TaskExecutor {
  private readonly value = encodeValue(1);
  private readonly channel = new MessageChannel();

  constructor(
    readonly threadCount: number,
    deliver: (results: ThreadResult[]) => void,
  ) {
    this.channel.port1.on('message', (message: ResultsMessage) => deliver(unpackResults(message.results)));
  }

  define(): void {}

  run(tasks: ThreadTask[]): void {
    packTasks(tasks);
    const { codec, bytes } = this.value;
    const results = packResults(tasks.map((task): ThreadResult => ({ key: task.key, ok: true, codec, bytes, durationMs: 0.01 })));
    const message: ResultsMessage = { results, done: true };
    this.channel.port2.postMessage(message, [results.data]);
  }

  close(): void {
    this.channel.port1.close();
    this.channel.port2.close();
  }
}
