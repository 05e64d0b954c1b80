// Job Schedulers (cron) against a real redis-server: a per-second schedule does not pile up jobs while no runner
// runs (BullMQ keeps one pending job per schedule), fires at its cron times once a runner runs, and `schedule rm`
// stops it, leaving no pending job behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster } from '@loom/client';
import { Redis } from 'ioredis';
import { isJobsError, JobQueue, JobRunner, loadJobs } from '../src/index.js';
import { FIXTURE_JOBS, waitFor } from './jobs-harness.js';

let cluster: LocalCluster;
let redisUrl: string;
let queue: JobQueue;

before(async () => {
  cluster = await LocalCluster.start({ workers: 1, jobs: true });
  redisUrl = cluster.redisUrl as string;
  queue = await JobQueue.open(redisUrl, { queue: 'cron' });
});

after(async () => {
  await queue?.close();
  await cluster?.close();
});

test('LocalCluster with jobs: true runs a private, append-only, noeviction Redis', async () => {
  assert.match(redisUrl, /^redis:\/\/127\.0\.0\.1:\d+$/);
  const redis = new Redis(redisUrl);
  try {
    assert.deepEqual(await redis.config('GET', 'appendonly'), ['appendonly', 'yes']);
    assert.deepEqual(await redis.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
  } finally {
    redis.disconnect();
  }
});

test('a per-second cron schedule keeps one pending job while no runner runs, fires once one does, and rm stops it', async () => {
  const info = await queue.schedule('tick', { job: 'echo', cron: '* * * * * *', params: { tick: true } });
  assert.equal(info.cron, '* * * * * *');
  const firstDue = Date.parse(info.next as string);
  // Let three of its times pass with no runner: still one job.
  await waitFor('three cron periods to pass', () => Date.now() > firstDue + 3_000, 10_000);
  const pending = await queue.list();
  assert.equal(pending.length, 1, `one pending job, not one per missed second: ${JSON.stringify(pending)}`);
  assert.equal(pending[0]?.schedule, 'tick');

  const runner = await JobRunner.start({ redisUrl, scheduler: cluster.address, queue: 'cron', jobs: await loadJobs(FIXTURE_JOBS) });
  try {
    await waitFor('the schedule to fire three times', async () => (await queue.list({ states: ['completed'] })).length >= 3, 15_000);
    const completed = await queue.list({ states: ['completed'] });
    assert.ok(completed.every((job) => job.schedule === 'tick' && job.name === 'echo'));
    await queue.unschedule('tick');
    assert.deepEqual(await queue.schedules(), []);
    await waitFor('no job left running', async () => (await queue.list({ states: ['active', 'waiting', 'delayed'] })).length === 0);
    const count = (await queue.list({ states: ['completed'] })).length;
    const stopped = Date.now();
    await waitFor('two more cron periods to pass', () => Date.now() > stopped + 2_000, 10_000);
    assert.equal((await queue.list({ states: ['completed'] })).length, count, 'nothing fired after rm');
    assert.deepEqual(await queue.list({ states: ['waiting', 'delayed'] }), []);
  } finally {
    await runner.close(1_000);
  }
});

test('schedule input: a bad cron pattern, an unknown time zone, both cron and every, removing what is not there', async () => {
  await assert.rejects(queue.schedule('bad', { job: 'echo', cron: 'every tuesday' }), (error: unknown) => isJobsError(error, 'BAD_OPTIONS') && /schedule bad:/.test(error.message));
  await assert.rejects(queue.schedule('bad', { job: 'echo', cron: '0 3 * * *', tz: 'Mars/Olympus' }), (error: unknown) => isJobsError(error, 'BAD_OPTIONS') && /unknown time zone "Mars\/Olympus"/.test(error.message));
  await assert.rejects(queue.schedule('bad', { job: 'echo', cron: '0 3 * * *', everyMs: 1000 }), (error: unknown) => isJobsError(error, 'BAD_OPTIONS'));
  await assert.rejects(queue.unschedule('never-made'), (error: unknown) => isJobsError(error, 'NOT_FOUND'));
  assert.deepEqual(await queue.schedules(), []);
});
