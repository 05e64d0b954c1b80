#!/usr/bin/env node
// `npm run demo:jobs`: durable jobs on a local Loom cluster with a private Redis (LocalCluster `jobs: true`;
// $LOOM_REDIS_URL to use your own). Writes a small fleet of hourly series and its split, starts a job runner
// process, then: submits a retrain and waits for it; puts a monthly retrain on a cron schedule (03:00 on the 1st,
// Europe/Paris) and a nightly drift-check; runs the drift check now (it retrains only what drifted, as a job it
// starts itself); prints `jobs ls` and the retrain's `jobs show`.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCluster } from '@loom/client';
import { detailsText, JobQueue, startRunnerProcess, summaryTable } from '@loom/jobs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.loom/demo-jobs');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// 12 series sources x 2 metrics, 10 days hourly.
const HOUR = 3_600_000;
const start = Date.UTC(2024, 0, 1);
const hours = 240;
const iso = (h) => new Date(start + h * HOUR).toISOString();
const split = ['id,file,column,train_from,train_to,test_from,test_to'];
let seed = 7;
const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 4;
for (let f = 0; f < 12; f++) {
  const lines = ['ts,cpu,latency'];
  for (let t = 0; t < hours; t++) lines.push(`${iso(t)},${50 + 10 * Math.sin((t + f) / 4) + noise()},${20 + 5 * Math.cos((t * (f + 1)) / 7) + noise()}`);
  writeFileSync(join(out, `host${f}.csv`), `${lines.join('\n')}\n`);
  for (const column of ['cpu', 'latency']) split.push(`host${f}.${column},host${f}.csv,${column},${iso(0)},${iso(hours - 48)},${iso(hours - 48)},${iso(hours)}`);
}
writeFileSync(join(out, 'split.csv'), `${split.join('\n')}\n`);
const params = { store: join(out, 'models'), group: 'hosts', split: join(out, 'split.csv'), family: { family: 'ar', params: { p: 4 } } };

const redisUrl = process.env.LOOM_REDIS_URL;
const cluster = await LocalCluster.start({ workers: 2, jobs: redisUrl ? { redisUrl } : true });
console.log(`cluster at ${cluster.address}, Redis at ${cluster.redisUrl}`);
const runner = await startRunnerProcess({ redisUrl: cluster.redisUrl, scheduler: cluster.address });
const queue = await JobQueue.open(cluster.redisUrl);
try {
  const id = await queue.submit('retrain', params);
  console.log(`submitted retrain: job ${id}`);
  const done = await queue.finished(id);
  console.log(`retrain ${done.state}: ${JSON.stringify(done.result ?? done.error)}`);

  await queue.schedule('monthly-retrain', { job: 'retrain', cron: '0 3 1 * *', tz: 'Europe/Paris', params });
  await queue.schedule('nightly-drift', { job: 'drift-check', cron: '30 2 * * *', tz: 'Europe/Paris', params });
  for (const s of await queue.schedules()) console.log(`schedule ${s.id}: ${s.job} cron '${s.cron}' (${s.tz}), next ${s.next}`);

  const check = await queue.submit('drift-check', params);
  const checked = await queue.finished(check);
  console.log(`drift-check ${checked.state}: ${JSON.stringify(checked.result ?? checked.error?.reason)}`);
  const retrainJob = checked.result?.retrainJob;
  if (retrainJob) console.log(`the drift check started retrain ${retrainJob}: ${JSON.stringify((await queue.finished(retrainJob)).result)}`);

  console.log('\n$ loom jobs ls');
  console.log(summaryTable(await queue.list()));
  console.log(`\n$ loom jobs show ${id}`);
  console.log(detailsText(await queue.show(id)));
  await queue.unschedule('monthly-retrain');
  await queue.unschedule('nightly-drift');
} finally {
  await queue.close();
  await runner.stop('SIGTERM', 10_000);
  await cluster.close();
}
