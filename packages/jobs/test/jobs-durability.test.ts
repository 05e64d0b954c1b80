// What survives a crash, against a real redis-server (append-only, killed with SIGKILL and restarted on its data)
// and a real Loom cluster, with job runners as processes: a runner killed mid-retrain is taken over after the
// stalled check and the store gets exactly one version (a re-run of the job returns it); Redis killed mid-run
// keeps its waiting, delayed and scheduled jobs and the runners reconnect by themselves; drift-check starts one
// retrain of the drifted ids, and a second run of it starts none; a Loom worker killed mid-retrain has its batches
// recomputed on the other and the job still publishes every model once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EmbeddedRedis, LocalCluster, type LoomProcess } from '@loom/client';
import { ModelStore } from '@loom/models';
import { JobQueue, startRunnerProcess } from '../src/index.js';
import { FIXTURE_JOBS, tempDir, waitFor, writeFleet } from './jobs-harness.js';

/** A dead runner's job is taken over within about a second (BullMQ's defaults are 30 s). */
const QUICK_TAKEOVER = ['--lock-duration', '1000', '--stalled-interval', '500'];

const dir = tempDir('durability');
let redis: EmbeddedRedis;
let cluster: LocalCluster;
let queue: JobQueue;
const runners: LoomProcess[] = [];
let fleet: { split: string; ids: string[] };
const storeDir = join(dir, 'store');

async function runner(): Promise<LoomProcess> {
  const started = await startRunnerProcess({ redisUrl: redis.url, scheduler: cluster.address, jobs: [FIXTURE_JOBS], args: QUICK_TAKEOVER });
  runners.push(started);
  return started;
}

before(async () => {
  redis = await EmbeddedRedis.start({ dir: join(dir, 'redis') });
  cluster = await LocalCluster.start({ workers: 2, jobs: { redisUrl: redis.url } });
  queue = await JobQueue.open(redis.url);
  fleet = writeFleet(dir, 30);
});

after(async () => {
  await Promise.all(runners.map((r) => r.stop('SIGKILL')));
  await queue?.close();
  await cluster?.close();
  await redis?.close();
});

const retrainParams = () => ({ store: storeDir, group: 'g', split: fleet.split, family: { family: 'ar', params: { p: 2 } } });

test('a runner killed mid-retrain: another runner takes the job over after the stalled check; one version is published', async () => {
  const first = await runner();
  const id = await queue.submit('retrain', retrainParams());
  await waitFor('the retrain to be training', async () => ((await queue.show(id)).progress?.fraction ?? 0) > 0);
  await first.stop('SIGKILL');
  await runner();
  const done = await queue.finished(id, 60_000);
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  const store = await ModelStore.open(storeDir);
  const versions = await store.versions('g');
  assert.deepEqual(versions.map((v) => v.version), [1], 'exactly one version');
  assert.equal(versions[0]?.models, fleet.ids.length);
  assert.deepEqual(done.result, { group: 'g', version: 1, trained: fleet.ids.length, carried: 0, failed: 0, reused: false });

  // BullMQ may deliver a job again: the second run finds the version its id published.
  await queue.retry(id);
  const again = await queue.finished(id);
  assert.equal(again.state, 'completed');
  assert.deepEqual(again.result, { group: 'g', version: 1, trained: fleet.ids.length, carried: 0, failed: 0, reused: true });
  assert.equal((await store.versions('g')).length, 1);
});

test('drift-check enqueues one retrain of the drifted ids; a second run of the same check starts none', async () => {
  const drifted = ['s3.b', 's0.a'];
  const id = await queue.submit('drift-check', { ...retrainParams(), driftOptions: { drifted } });
  const done = await queue.finished(id);
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  const result = done.result as { drifted: number; retrainJob: string };
  assert.equal(result.drifted, 2);
  const retrain = await queue.finished(result.retrainJob, 60_000);
  assert.equal(retrain.state, 'completed', JSON.stringify(retrain.error));
  assert.equal(retrain.startedBy, id);
  assert.deepEqual((retrain.params as { only: string[] }).only, ['s0.a', 's3.b']);
  assert.deepEqual(retrain.result, { group: 'g', version: 2, trained: 2, carried: fleet.ids.length - 2, failed: 0, reused: false });
  const listed = await queue.list();
  assert.ok(listed.some((job) => job.id === result.retrainJob && job.startedBy === id), 'jobs ls shows the job that started it');

  await queue.retry(id);
  const again = await queue.finished(id);
  assert.deepEqual(again.result, done.result, 'the same retrain job id');
  assert.equal((await queue.list()).filter((job) => job.startedBy === id).length, 1, 'one retrain job');
  assert.equal((await queue.show(result.retrainJob)).state, 'completed', 'not run again');
});

test('Redis killed mid-run: waiting, delayed and scheduled jobs are still there after its restart, and runners reconnect', async () => {
  // One runner busy with a job that holds until cancelled, so the next job waits.
  const busy = await queue.submit('hold', {});
  await waitFor('the hold job to run', async () => (await queue.show(busy)).state === 'active');
  const waiting = await queue.submit('echo', { n: 1 });
  const delayed = await queue.submit('echo', { n: 2 }, { delayMs: 3_600_000 });
  await queue.schedule('monthly', { job: 'retrain', cron: '0 3 1 * *', tz: 'Europe/Paris', params: retrainParams() });
  assert.equal((await queue.show(waiting)).state, 'waiting');

  await redis.kill('SIGKILL');
  await redis.restart();

  const reopened = await JobQueue.open(redis.url);
  try {
    assert.equal((await reopened.show(delayed)).state, 'delayed');
    const schedule = (await reopened.schedules()).find((s) => s.id === 'monthly');
    assert.equal(schedule?.cron, '0 3 1 * *');
    assert.equal(schedule?.tz, 'Europe/Paris');
    assert.ok(['waiting', 'active', 'completed'].includes((await reopened.show(waiting)).state));
    // The runner reconnects by itself: it hears the cancel, then runs the waiting job.
    await reopened.cancel(busy);
    assert.match((await reopened.finished(busy, 30_000)).error?.reason ?? '', /^CANCELLED/);
    const echoed = await reopened.finished(waiting, 30_000);
    assert.equal(echoed.state, 'completed');
    assert.deepEqual(echoed.result, { n: 1 });
    await reopened.unschedule('monthly');
  } finally {
    await reopened.close();
  }
});

// Last in the file: it leaves the cluster with one worker.
test('a Loom worker SIGKILLed mid-retrain: its batches are recomputed on the other and the job publishes every model once', async () => {
  if (runners.every((r) => !r.running)) await runner();
  const big = writeFleet(tempDir('worker-kill'), 120);
  const workerKillStore = join(dir, 'worker-kill-store');
  const id = await queue.submit('retrain', { store: workerKillStore, group: 'wk', split: big.split, family: { family: 'ar', params: { p: 2 } } });
  await waitFor('the retrain to be training', async () => ((await queue.show(id)).progress?.fraction ?? 0) > 0);
  await cluster.killWorker(0, 'SIGKILL');
  assert.equal((await queue.show(id)).state, 'active', 'the worker died while the job was still running');
  const done = await queue.finished(id, 120_000);
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  assert.deepEqual(done.result, { group: 'wk', version: 1, trained: big.ids.length, carried: 0, failed: 0, reused: false });
  const group = await (await ModelStore.open(workerKillStore)).open('wk');
  assert.deepEqual([...group.ids].sort(), [...big.ids].sort(), 'every model exactly once');
});
