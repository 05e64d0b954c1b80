// Jobs against a real redis-server (LocalCluster's own, from `jobs: true`) and a real Loom cluster, with a runner
// in this process: submit/show/ls, stored progress and log, retries with backoff, timeouts, cancel of a running
// and of a waiting job, and bad input (unknown job name, invalid params, non-JSON params).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster } from '@loom/client';
import { builtinJobs, isJobsError, JobQueue, JobRunner, loadJobs, mergeJobs, parseParams } from '../src/index.js';
import { FIXTURE_JOBS, waitFor } from './jobs-harness.js';

let cluster: LocalCluster;
let queue: JobQueue;
let runner: JobRunner;

before(async () => {
  cluster = await LocalCluster.start({ workers: 1, jobs: true });
  const jobs = mergeJobs(builtinJobs(), await loadJobs(FIXTURE_JOBS));
  runner = await JobRunner.start({ redisUrl: cluster.redisUrl as string, scheduler: cluster.address, jobs, concurrency: 4, cancelPollMs: 100 });
  queue = await JobQueue.open(cluster.redisUrl as string);
});

/** A job that never finishes fails its test within a minute (naming it) instead of holding the file to its timeout. */
const finished = (id: string) => queue.finished(id, 60_000);

after(async () => {
  await queue?.close();
  await runner?.close(1_000);
  await cluster?.close();
});

test('a submitted job runs with a connected client; its result, progress and log are stored with it', async () => {
  const id = await queue.submit('echo', { hello: 'world' });
  const done = await finished(id);
  assert.equal(done.state, 'completed');
  assert.deepEqual(done.result, { hello: 'world' });
  assert.deepEqual(done.progress, { fraction: 0.5, message: 'echoing' });
  assert.match(done.log.join('\n'), /50% echoing[\s\S]*echo ran/);
  assert.deepEqual(done.attempts, { made: 1, max: 3 });
  const squared = await finished(await queue.submit('square', { x: 7 }));
  assert.equal(squared.result, 49, 'the job ran a task on the Loom cluster');
  const listed = await queue.list({ states: ['completed'] });
  assert.ok(listed.some((job) => job.id === id && job.name === 'echo'));
});

test('a failing job is retried with backoff and succeeds on a later try', async () => {
  const done = await finished(await queue.submit('flaky', { failures: 2 }));
  assert.equal(done.state, 'completed');
  assert.deepEqual(done.result, { succeededOn: 3 });
  assert.equal(done.attempts.made, 3);
});

test('a job that fails every try ends failed with its last error and stack', async () => {
  const done = await finished(await queue.submit('flaky', { failures: 10 }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } }));
  assert.equal(done.state, 'failed');
  assert.equal(done.attempts.made, 2);
  assert.equal(done.error?.reason, 'flaky failure on try 2');
  assert.match(done.error?.stack[0] ?? '', /flaky failure on try 2\n\s+at /);
});

test('a try that runs past its timeout has its signal aborted and fails with TIMEOUT; the job fails after its tries', async () => {
  const done = await finished(await queue.submit('hold', {}, { timeoutMs: 200 }));
  assert.equal(done.state, 'failed');
  assert.equal(done.attempts.made, 2, 'a timeout is retried');
  assert.match(done.error?.reason ?? '', /^TIMEOUT: try 2 ran past its 200 ms timeout/);
});

test('cancel aborts a running job: it fails with CANCELLED at once, without retries', async () => {
  const id = await queue.submit('hold', {});
  await waitFor('the job to run', async () => (await queue.show(id)).progress?.message === 'holding');
  assert.equal(await queue.cancel(id, 'no longer wanted'), 'cancelling');
  const done = await finished(id);
  assert.equal(done.state, 'failed');
  assert.equal(done.error?.reason, 'CANCELLED: no longer wanted');
  assert.equal(done.attempts.made, 1);
  assert.equal(await queue.cancel(id), 'already-finished');
});

test('cancel of a delayed job fails it when a runner takes it, without waiting for its time', async () => {
  const id = await queue.submit('echo', {}, { delayMs: 3_600_000 });
  assert.equal((await queue.show(id)).state, 'delayed');
  await queue.cancel(id);
  const done = await finished(id);
  assert.equal(done.state, 'failed');
  assert.match(done.error?.reason ?? '', /^CANCELLED/);
});

test('bad input: an unknown job name is refused at submit; parameters that are not JSON or fail validation', async () => {
  await assert.rejects(queue.submit('no-such-job', {}), (error: unknown) => isJobsError(error, 'UNKNOWN_JOB') && /no-such-job.*they serve .*echo/.test(error.message));
  assert.throws(() => parseParams('{"group": '), (error: unknown) => isJobsError(error, 'BAD_PARAMS') && /--params is not JSON/.test(error.message));
  await assert.rejects(queue.submit('echo', { when: new Date() }), (error: unknown) => isJobsError(error, 'BAD_PARAMS') && /params\.when is a Date/.test(error.message));
  const done = await finished(await queue.submit('typed', { n: 'three' }));
  assert.equal(done.state, 'failed');
  assert.equal(done.attempts.made, 1, 'invalid params are not retried');
  assert.equal(done.error?.reason, 'BAD_PARAMS: typed: n must be a number');
  const retrain = await finished(await queue.submit('retrain', { group: 'g' }));
  assert.match(retrain.error?.reason ?? '', /^BAD_PARAMS: retrain: retrain params: store must be non-empty text/);
  assert.equal((await finished(await queue.submit('typed', { n: 21 }))).result, 42);
});

test('a job submitted before any runner registered its queue, under a name the runner lacks, fails with UNKNOWN_JOB', async () => {
  const fresh = await JobQueue.open(cluster.redisUrl as string, { queue: 'fresh' });
  let freshRunner: JobRunner | undefined;
  try {
    const id = await fresh.submit('nope', {});
    freshRunner = await JobRunner.start({ redisUrl: cluster.redisUrl as string, scheduler: cluster.address, queue: 'fresh', jobs: await loadJobs(FIXTURE_JOBS) });
    const done = await fresh.finished(id);
    assert.equal(done.state, 'failed');
    assert.match(done.error?.reason ?? "", /^UNKNOWN_JOB: this runner serves no job named "nope" \(it serves .*echo, flaky/);
    assert.equal(done.attempts.made, 1);
  } finally {
    await freshRunner?.close(1_000);
    await fresh.close();
  }
});
