// The worker state machine's invariants, checked after every event when it runs with `validate` (the tests and
// the fuzzer do): each task in exactly one state and in the queue of that state, the counters matching the
// records, and the load budget respected.
import { LoomError } from '@loom/protocol';
import type { WorkerState } from './worker-state-machine.js';
import type { WorkerTask, WorkerTaskState } from './worker-task.js';

export function validateWorkerState(state: WorkerState): void {
  const fail = (what: string): never => {
    throw new LoomError('INTERNAL', `worker state invariant violated: ${what}`);
  };
  const counts: Record<WorkerTaskState, number> = { released: 0, 'reading-held': 0, waiting: 0, fetching: 0, ready: 0, executing: 0, cancelled: 0 };
  let loaded = 0;
  let loaders = 0;
  for (const [key, record] of state.tasks) {
    if (record.task.key !== key) fail(`task '${record.task.key}' is filed under '${key}'`);
    counts[record.state] += 1;
    if (record.loadBytes < 0) fail(`task '${key}' holds ${record.loadBytes} load bytes`);
    if (record.loadBytes > 0) {
      loaders += 1;
      if (record.state !== 'fetching' && record.state !== 'ready') fail(`task '${key}' holds load bytes in state ${record.state}`);
    }
    loaded += record.loadBytes;
    if (record.state !== 'executing' && record.state !== 'cancelled' && (record.state === 'ready') !== (record.inputs !== undefined)) fail(`task '${key}' in state ${record.state} ${record.inputs ? 'holds' : 'lacks'} inputs`);
    if (state.closing && record.state !== 'executing' && record.state !== 'cancelled') fail(`task '${key}' is ${record.state} on a closing worker`);
  }
  if (counts.released > 0) fail(`${counts.released} tasks were left unplaced`);
  checkQueue(state, state.ready, 'ready', counts.ready, fail);
  checkQueue(state, state.waiting, 'waiting', counts.waiting, fail);
  if (state.executingCount !== counts.executing + counts.cancelled) {
    fail(`executingCount is ${state.executingCount} but ${counts.executing + counts.cancelled} tasks are executing`);
  }
  if (state.loadedBytes !== loaded) fail(`loadedBytes is ${state.loadedBytes} but the tasks hold ${loaded}`);
  if (state.loadedBytes > state.loadBudgetBytes && loaders > 1) {
    fail(`${state.loadedBytes} bytes loaded by ${loaders} tasks exceed the budget of ${state.loadBudgetBytes}: only a lone load may`);
  }
  if (state.freeThreads < 0 || state.freeThreads > state.nthreads) fail(`${state.freeThreads} free threads of ${state.nthreads}`);
  if (state.freeThreads === state.nthreads && state.executingCount > 0) fail(`${state.executingCount} tasks executing with every thread free`);
}

function checkQueue(state: WorkerState, queue: readonly WorkerTask[], name: WorkerTaskState, expected: number, fail: (what: string) => never): void {
  if (queue.length !== expected) fail(`the ${name} queue holds ${queue.length} tasks but ${expected} are ${name}`);
  let previous = -1;
  for (const record of queue) {
    if (state.tasks.get(record.task.key) !== record || record.state !== name) fail(`the ${name} queue holds '${record.task.key}' in state ${record.state}`);
    if (record.seq <= previous) fail(`the ${name} queue is out of arrival order at '${record.task.key}'`);
    previous = record.seq;
  }
}
