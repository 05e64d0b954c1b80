// The per-process cache score and drift tasks share a group through: task threads of one process that ask for
// the same key at the same time get one load between them, and the same memory (a write by one is seen by all).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

const CACHE_MODULE = new URL('../src/tasks/thread-shared-cache.js', import.meta.url).href;

/** A thread that acquires `key` (loading a 16-byte buffer holding its thread id) and reports what it got. */
const THREAD = `
const { parentPort, workerData, threadId } = require('node:worker_threads');
import(workerData.module).then(async ({ ThreadSharedCache }) => {
  const cache = new ThreadSharedCache('loom.test.cache-' + workerData.run, 2);
  const { value, loaded } = await cache.acquire(workerData.key, async () => {
    const buffer = new SharedArrayBuffer(16);
    new Int32Array(buffer)[0] = threadId;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { buffer, meta: { by: threadId } };
  });
  const shared = new Int32Array(value.buffer);
  Atomics.add(shared, 1, 1);
  parentPort.postMessage({ loaded, by: value.meta.by, holder: shared[0] });
  // Stay until the test has seen every thread's increment, answering later askers meanwhile.
  parentPort.once('message', () => process.exit(0));
});
`;

function startThreads(count: number, run: string, key: string): Promise<{ workers: Worker[]; reports: Array<{ loaded: boolean; by: number; holder: number }> }> {
  const workers = Array.from({ length: count }, () => new Worker(THREAD, { eval: true, workerData: { module: CACHE_MODULE, run, key } }));
  return Promise.all(workers.map((worker) => new Promise<{ loaded: boolean; by: number; holder: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }))).then((reports) => ({ workers, reports }));
}

test('threads asking at once: one load, the same shared memory for all', async () => {
  const run = String(process.hrtime.bigint());
  const { workers, reports } = await startThreads(6, run, 'group-a');
  try {
    assert.equal(reports.filter((r) => r.loaded).length, 1, `one thread loaded: ${JSON.stringify(reports)}`);
    const loader = reports.find((r) => r.loaded)?.by;
    for (const report of reports) {
      assert.equal(report.by, loader, 'every thread got the loader\'s value');
      assert.equal(report.holder, loader, 'and its bytes');
    }
  } finally {
    for (const worker of workers) worker.postMessage('exit');
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
  }
});

test('a thread that comes later gets the value from a holder without loading it', async () => {
  const run = String(process.hrtime.bigint());
  const first = await startThreads(1, run, 'group-b');
  const later = await startThreads(2, run, 'group-b');
  try {
    assert.equal(first.reports[0]?.loaded, true);
    assert.deepEqual(later.reports.map((r) => r.loaded), [false, false]);
    assert.deepEqual(later.reports.map((r) => r.by), [first.reports[0]?.by, first.reports[0]?.by]);
  } finally {
    for (const worker of [...first.workers, ...later.workers]) worker.postMessage('exit');
  }
});
