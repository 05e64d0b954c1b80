// The Loom scheduler killed in the middle of a job and restarted on the same address: the try that was running
// fails (its session is gone), the runner (the same process) reconnects its client with backoff, and the next try
// resubmits its task under the same key and completes. (A retrain's next try resumes trainMany's staged batches:
// jobs-durability.test.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedRedis, LoomProcess } from '@loom/client';
import { JobQueue, startRunnerProcess } from '../src/index.js';
import { FIXTURE_JOBS, tempDir, waitFor } from './jobs-harness.js';

const dir = tempDir('scheduler-restart');
const env = { ...process.env, LOOM_LOG_LEVEL: process.env['LOOM_LOG_LEVEL'] ?? 'warn' };
let redis: EmbeddedRedis;
let scheduler: LoomProcess;
let worker: LoomProcess;
let runner: LoomProcess;
let queue: JobQueue;
let address: string;

const entry = (specifier: string): string => fileURLToPath(import.meta.resolve(specifier));

async function startScheduler(port: number): Promise<string> {
  const { process: started, ready } = await LoomProcess.launch({ label: 'the Loom scheduler', entry: entry('@loom/scheduler/main'), args: ['--host', '127.0.0.1', '--port', String(port)], env, readyTimeoutMs: 30_000 });
  scheduler = started;
  return ready['address'] as string;
}

before(async () => {
  redis = await EmbeddedRedis.start();
  address = await startScheduler(0);
  // Under its nanny, as in production: the worker exits when it loses the scheduler and the nanny restarts it.
  ({ process: worker } = await LoomProcess.launch({ label: 'Loom worker', entry: entry('@loom/worker/main'), args: [address, '--nthreads', '2', '--name', 'w0'], env, readyTimeoutMs: 30_000 }));
  runner = await startRunnerProcess({ redisUrl: redis.url, scheduler: address, jobs: [FIXTURE_JOBS], env });
  queue = await JobQueue.open(redis.url);
});

after(async () => {
  await queue?.close();
  await runner?.stop('SIGTERM', 5_000);
  await worker?.stop('SIGTERM', 5_000);
  await scheduler?.stop('SIGKILL');
  await redis?.close();
});

test('a scheduler killed mid-job and restarted: the runner reconnects, the next try resubmits its task and completes', async () => {
  const gate = join(dir, 'gate');
  const id = await queue.submit('gated', { gate });
  await waitFor('the job to have its task on the cluster', async () => (await queue.show(id)).progress?.message === 'submitted');
  await scheduler.stop('SIGKILL');
  await startScheduler(Number(address.split(':').at(-1)));
  // The worker left with its scheduler; its nanny waits for the scheduler to answer again and starts a new one.
  writeFileSync(gate, '');

  const done = await queue.finished(id, 60_000);
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  assert.deepEqual(done.result, { task: 'opened', attempt: 2 }, 'the try that lost its scheduler failed; the next one completed');
  assert.ok(runner.running, 'the same runner process');
  assert.ok(worker.running, 'the same nanny, whose new worker joined the restarted scheduler');
});
