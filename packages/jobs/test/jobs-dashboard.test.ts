// The dashboard's Jobs section against a real redis-server (with a password) and a real runner: counts per state,
// the jobs with their progress and tries, a failed job's reason, a schedule's next run; Redis killed -> the read
// fails with REDIS_UNREACHABLE, the password in no message; Redis back -> the same section reads again; a section
// first opened while Redis is down opens once it is up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DashboardExtension, ProgressCell, SectionContent, SectionTable } from '@loom/dashboard';
import { EmbeddedRedis, LocalCluster } from '@loom/client';
import { createDashboardSection } from '../src/jobs-dashboard.js';
import { isJobsError, JobQueue, JobRunner, loadJobs } from '../src/index.js';
import { FIXTURE_JOBS, waitFor } from './jobs-harness.js';

const PASSWORD = `pw-${process.pid}-dashboard`;
const QUEUE = `dash-${process.pid}`;
let redis: EmbeddedRedis;
let cluster: LocalCluster;
let runner: JobRunner;
let queue: JobQueue;
let section: DashboardExtension;

before(async () => {
  redis = await EmbeddedRedis.start({ password: PASSWORD });
  // The cluster's jobs Redis is the one its dashboard's Jobs page shows by default.
  cluster = await LocalCluster.start({ workers: 1, jobs: { redisUrl: redis.url }, dashboard: { port: 0, jobsQueue: QUEUE } });
  runner = await JobRunner.start({ redisUrl: redis.url, scheduler: cluster.address, queue: QUEUE, jobs: await loadJobs(FIXTURE_JOBS), concurrency: 4, cancelPollMs: 100 });
  queue = await JobQueue.open(redis.url, { queue: QUEUE });
  section = await createDashboardSection({ redisUrl: redis.url, queue: QUEUE });
});

after(async () => {
  await section?.close?.();
  // A test that failed half-way may leave its held job running, which would keep the runner (and this file) alive.
  for (const job of (await queue?.list({ states: ['active'] }).catch(() => [])) ?? []) {
    await queue.cancel(job.id).catch(() => undefined);
    await queue.finished(job.id, 10_000).catch(() => undefined);
  }
  await queue?.close();
  await runner?.close(1_000);
  await cluster?.close();
  await redis?.close();
});

const read = async (of: DashboardExtension = section) => (await of.data()) as SectionContent;
const table = (content: SectionContent, id: string): SectionTable => {
  const found = content.tables.find((candidate) => candidate.id === id);
  assert.ok(found, `a ${id} table`);
  return found;
};
const tile = (content: SectionContent, label: string) => content.tiles?.find((candidate) => candidate.label === label)?.value;

test('counts per state, jobs with progress and tries, the failure with its reason, the schedule with its next run', async () => {
  const done = await queue.submit('echo', { hello: 'dashboard' });
  const failed = await queue.submit('flaky', { failures: 10 }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
  const held = await queue.submit('hold', {});
  const later = await queue.submit('echo', {}, { delayMs: 3_600_000 });
  const schedule = await queue.schedule('nightly', { job: 'echo', cron: '30 2 * * *', tz: 'Europe/Paris' });
  await queue.finished(done, 60_000);
  await queue.finished(failed, 60_000);
  await waitFor('the held job to run', async () => (await queue.show(held)).progress?.message === 'holding');

  const content = await read();
  assert.equal(content.source, `queue ${QUEUE} on redis://:***@127.0.0.1:${redis.port}`);
  assert.equal(tile(content, 'completed'), 1);
  assert.equal(tile(content, 'failed'), 1);
  assert.equal(tile(content, 'active'), 1);
  assert.equal(tile(content, 'delayed'), 2, "the delayed job and the schedule's next one");
  assert.equal(tile(content, 'schedules'), 1);

  const jobs = table(content, 'jobs');
  const row = (id: string) => jobs.rows.find((candidate) => candidate['id'] === id);
  assert.equal(jobs.rows.length, 5, 'four submitted jobs and the schedule\'s next one');
  assert.equal(row(done)?.['state'], 'completed');
  assert.deepEqual(row(done)?.['progress'], { fraction: 1 });
  assert.equal(row(failed)?.['state'], 'failed');
  assert.equal(row(failed)?.['tries'], '2 / 2');
  assert.equal(row(held)?.['state'], 'active');
  assert.deepEqual(row(held)?.['progress'] as ProgressCell, { fraction: 0.1, message: 'holding' });
  assert.ok(typeof row(held)?.['runMs'] === 'number', 'a running job has a run time');
  assert.equal(row(later)?.['state'], 'delayed');
  const due = Date.parse(String(row(later)?.['started']));
  assert.ok(Math.abs(due - (Date.now() + 3_600_000)) < 60_000, `a delayed job shows when it is due: ${row(later)?.['started']}`);
  const next = jobs.rows.find((candidate) => candidate['from'] === 'schedule nightly');
  assert.equal(next?.['started'], schedule.next, "the schedule's next job is due at its next run");

  const failures = table(content, 'failures');
  assert.deepEqual(failures.rows.map((r) => [r['id'], r['reason']]), [[failed, 'flaky failure on try 2']]);

  const schedules = table(content, 'schedules');
  assert.deepEqual(schedules.rows, [{ id: 'nightly', job: 'echo', when: '30 2 * * *', tz: 'Europe/Paris', next: schedule.next, fired: schedule.fired }]);
  assert.ok(schedule.next !== undefined && Date.parse(schedule.next) > Date.now());

  assert.ok(!JSON.stringify(content).includes(PASSWORD), 'the password is nowhere in the section');
  await queue.cancel(held);
  await queue.finished(held, 60_000);
});

test("LocalCluster's dashboard shows its jobs Redis: the scheduler's Jobs JSON is the section's", async () => {
  const response = await fetch(new URL('/api/v1/x/jobs', cluster.dashboardUrl));
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.ok(!text.includes(PASSWORD), 'the password is not in the JSON');
  const answer = JSON.parse(text) as SectionContent & { error?: unknown };
  assert.equal(answer.error, undefined);
  assert.equal(answer.source, `queue ${QUEUE} on redis://:***@127.0.0.1:${redis.port}`);
  assert.equal(tile(answer, 'failed'), (await queue.counts()).failed);
});

test('the jobs table is capped at 200 and says how many it left out', async () => {
  // A queue no runner serves: the jobs stay waiting.
  const crowded = await JobQueue.open(redis.url, { queue: `${QUEUE}-crowded` });
  const many = await createDashboardSection({ redisUrl: redis.url, queue: `${QUEUE}-crowded` });
  try {
    await Promise.all(Array.from({ length: 230 }, (_, i) => crowded.submit('echo', { i })));
    const content = await read(many);
    assert.equal(tile(content, 'waiting'), 230);
    const jobs = table(content, 'jobs');
    assert.equal(jobs.rows.length, 200);
    assert.equal(jobs.omitted, 30);
  } finally {
    await many.close?.();
    await crowded.close();
  }
});

test('Redis down: the read fails with REDIS_UNREACHABLE and no password; Redis back: the section reads again', async () => {
  await redis.kill('SIGKILL');
  try {
    await assert.rejects(read(), (error: unknown) => {
      assert.ok(isJobsError(error, 'REDIS_UNREACHABLE'), String(error));
      assert.doesNotMatch(error.message, new RegExp(PASSWORD));
      return true;
    });
    // A section first opened while Redis is down fails the same way, and opens once Redis is back.
    const late = await createDashboardSection({ redisUrl: redis.url, queue: QUEUE });
    try {
      await assert.rejects(read(late), (error: unknown) => isJobsError(error, 'REDIS_UNREACHABLE') && !error.message.includes(PASSWORD) && error.message.includes(':***@'));
      await redis.restart();
      const reopened = await waitFor('the late section to open', async () => read(late));
      assert.equal(tile(reopened, 'schedules'), 1);
    } finally {
      await late.close?.();
    }
  } finally {
    if (!redis.running) await redis.restart();
  }
  const back = await waitFor('the first section to read again (its connection reconnects with backoff)', async () => read(), 15_000);
  assert.equal(tile(back, 'failed'), (await queue.counts()).failed);
  assert.equal(tile(back, 'schedules'), 1);
});

test('a malformed URL fails when the section is made (the scheduler start), naming no password', async () => {
  assert.throws(() => createDashboardSection({ redisUrl: `http://:${PASSWORD}@host:1` }), (error: unknown) => isJobsError(error, 'BAD_OPTIONS') && !error.message.includes(PASSWORD));
});
