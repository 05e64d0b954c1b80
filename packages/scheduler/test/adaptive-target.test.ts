// The adaptive target: Dask's rules on plain counters (work over the target duration, never more threads than
// tasks, twice the workers when memory fills, idle workers with least data retired while memory stays ample),
// what it reads from a live SchedulerState per worker group, and the route on the dashboard's port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDashboard } from '@loom/dashboard';
import { adaptiveInput, adaptiveRoute, adaptiveTarget, SchedulerDashboardSource, type AdaptiveWorker } from '../src/index.js';
import { Harness, task } from './harness.js';

const GiB = 2 ** 30;

function idleWorker(extra: Partial<AdaptiveWorker> = {}): AdaptiveWorker {
  return { nthreads: 1, memoryLimit: GiB, managedBytes: 0, occupancySeconds: 0, processing: 0, ...extra };
}

test('with no workers, the ready work over the target duration sets the threads, divided by a new worker\'s threads', () => {
  const target = adaptiveTarget({ workers: [], readyTasks: 100, readySeconds: 100 }, { threadsPerNewWorker: 4 });
  assert.equal(target.cpu, 5, '100 s of work in 5 s wants 20 threads: 5 workers of 4');
  assert.equal(target.workers, 5);
  assert.equal(adaptiveTarget({ workers: [], readyTasks: 1, readySeconds: 0.001 }).workers, 1, 'any ready work wants one worker');
  assert.equal(adaptiveTarget({ workers: [], readyTasks: 0, readySeconds: 0 }).workers, 0, 'no work, no workers');
});

test('a few long tasks ask for no more threads than there are tasks', () => {
  const target = adaptiveTarget({ workers: [idleWorker({ nthreads: 4 })], readyTasks: 2, readySeconds: 200 });
  assert.equal(target.cpu, 1, '200 s of work would want 40 threads, but two tasks use two: one 4-thread worker');
  assert.equal(target.workers, 1);
});

test('processing work counts, and the threads are divided by the workers\' average', () => {
  const workers = [idleWorker({ nthreads: 2, occupancySeconds: 20, processing: 8 }), idleWorker({ nthreads: 6, occupancySeconds: 20, processing: 8 })];
  const target = adaptiveTarget({ workers, readyTasks: 40, readySeconds: 40 }, { targetDurationSeconds: 10 });
  assert.equal(target.expectedSeconds, 80);
  assert.equal(target.processingTasks, 16);
  assert.equal(target.cpu, 2, '8 threads over workers of 4 threads on average');
  assert.equal(target.workers, 2);
  assert.equal(adaptiveTarget({ workers, readyTasks: 400, readySeconds: 400 }, { targetDurationSeconds: 10 }).workers, 11, '44 threads: 11 workers of 4');
});

test('results above 60 % of the memory limits ask for twice the workers, whatever the work', () => {
  const full = [idleWorker({ managedBytes: 0.7 * GiB }), idleWorker({ managedBytes: 0.7 * GiB })];
  const target = adaptiveTarget({ workers: full, readyTasks: 0, readySeconds: 0 });
  assert.equal(target.memory, 4);
  assert.equal(target.workers, 4);
  const ample = [idleWorker({ managedBytes: 0.5 * GiB }), idleWorker({ managedBytes: 0.5 * GiB })];
  assert.equal(adaptiveTarget({ workers: ample, readyTasks: 0, readySeconds: 0 }).memory, 0);
});

test('scaling down retires idle workers with least data first while the rest hold twice the data', () => {
  const workers = [idleWorker({ managedBytes: 0.3 * GiB }), idleWorker(), idleWorker({ managedBytes: 0.1 * GiB }), idleWorker()];
  // 0.4 GiB held: closing three leaves 1 GiB >= 0.8 GiB; closing the fourth leaves nothing.
  assert.equal(adaptiveTarget({ workers, readyTasks: 0, readySeconds: 0 }).workers, 1);
  const heavier = [idleWorker({ managedBytes: 0.3 * GiB }), idleWorker({ managedBytes: 0.3 * GiB }), idleWorker({ managedBytes: 0.3 * GiB })];
  // 0.9 GiB held needs 1.8 GiB of limits: two workers stay.
  assert.equal(adaptiveTarget({ workers: heavier, readyTasks: 0, readySeconds: 0 }).workers, 2);
});

test('a busy worker is never counted as one to retire', () => {
  const workers = [idleWorker({ processing: 1, occupancySeconds: 0.1 }), idleWorker({ processing: 1, occupancySeconds: 0.1 }), idleWorker()];
  const target = adaptiveTarget({ workers, readyTasks: 0, readySeconds: 0 });
  assert.equal(target.cpu, 1);
  assert.equal(target.workers, 2, 'only the idle one goes');
  const allBusy = workers.slice(0, 2);
  assert.equal(adaptiveTarget({ workers: allBusy, readyTasks: 0, readySeconds: 0 }).workers, 2);
});

test('bad options are refused', () => {
  assert.throws(() => adaptiveTarget({ workers: [], readyTasks: 0, readySeconds: 0 }, { targetDurationSeconds: 0 }), RangeError);
  assert.throws(() => adaptiveTarget({ workers: [], readyTasks: 0, readySeconds: 0 }, { threadsPerNewWorker: 0 }), RangeError);
});

/** One plain worker with two threads running two of ten root tasks, and three GPU tasks no worker can run. */
function clusterWithGpuBacklog(): Harness {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1', 2);
  const roots = Array.from({ length: 10 }, (_, i) => task(`r${i}`));
  const gpu = Array.from({ length: 3 }, (_, i) => task(`g${i}`, [], { resources: { GPU: 1 } }));
  h.submit([...roots, ...gpu], [...roots, ...gpu].map((t) => t.key));
  return h;
}

test('the input reads ready work from the per-kind counts and splits restricted work by group', () => {
  const { state } = clusterWithGpuBacklog();
  const unknown = state.config.unknownTaskSeconds;
  const all = adaptiveInput(state, { kind: 'all' });
  assert.equal(all.workers.length, 1);
  assert.equal(all.workers[0]!.processing, 2);
  assert.equal(all.readyTasks, 11, 'eight queued roots and three GPU tasks in no-worker');
  assert.equal(all.readySeconds, 11 * unknown);
  const gpu = adaptiveInput(state, { kind: 'resource', name: 'GPU' });
  assert.deepEqual(gpu, { workers: [], readyTasks: 3, readySeconds: 3 * unknown });
  const plain = adaptiveInput(state, { kind: 'plain' });
  assert.equal(plain.workers.length, 1);
  assert.equal(plain.readyTasks, 8);
  assert.equal(plain.readySeconds, 8 * unknown);
});

test('the GPU group at zero workers is asked for one when GPU work waits', () => {
  const { state } = clusterWithGpuBacklog();
  const answer = adaptiveRoute(state)(new URLSearchParams('resource=GPU&threads=1'));
  assert.equal(answer.scope, 'GPU');
  assert.equal(answer.current, 0);
  assert.equal(answer.workers, 1);
  assert.equal(adaptiveRoute(state)(new URLSearchParams('resource=TPU')).workers, 0, 'no work needs a TPU');
  assert.throws(() => adaptiveRoute(state)(new URLSearchParams('target-duration=soon')), { code: 'BAD_REQUEST' });
  assert.throws(() => adaptiveRoute(state)(new URLSearchParams('threads=0')), { code: 'BAD_REQUEST' });
  assert.equal(adaptiveRoute(state)(new URLSearchParams('target-duration=500ms')).targetDurationSeconds, 0.5);
});

test('GET /api/v1/adaptive answers with the token and refuses without it', async () => {
  const { state } = clusterWithGpuBacklog();
  const dashboard = await startDashboard({
    source: new SchedulerDashboardSource(state, () => undefined),
    port: 0,
    token: 'secret-token',
    routes: { adaptive: adaptiveRoute(state) },
  });
  try {
    const url = new URL('api/v1/adaptive?resource=none', dashboard.url);
    const refused = await fetch(url);
    assert.equal(refused.status, 401);
    const answered = await fetch(url, { headers: { authorization: 'Bearer secret-token' } });
    assert.equal(answered.status, 200);
    const body = (await answered.json()) as { scope: string; workers: number; readyTasks: number; current: number };
    assert.deepEqual({ scope: body.scope, readyTasks: body.readyTasks, current: body.current, workers: body.workers }, { scope: 'none', readyTasks: 8, current: 1, workers: 1 });
    const bad = await fetch(new URL('api/v1/adaptive?threads=x', dashboard.url), { headers: { authorization: 'Bearer secret-token' } });
    assert.equal(bad.status, 400);
  } finally {
    await dashboard.close();
  }
});
