// The dashboard's Jobs and Models pages on a live cluster with a token, started with a jobs Redis (with a
// password) and a model store: a real runner's jobs (done, failed with a reason, running with progress), cron
// schedules, groups trained with trainMany and checked with detectDrift. Their JSON (behind the token) and what
// Chromium shows agree with the queue and the store; Redis killed -> the Jobs page says so (the rest of the
// dashboard answers) and recovers when Redis is back; the password is in no page, JSON answer or log line.
// Screenshots land in test/artifacts/dashboard/ (not committed).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Client, EmbeddedRedis, LocalCluster } from '@loom/client';
import { JobQueue, JobRunner, loadJobs } from '@loom/jobs';
import { ar, detectDrift, ModelStore, readSplit, seasonal, trainMany, type DriftResult, type TrainManyResult } from '@loom/models';
import { seededRandom } from '@loom/testing';
import { eventually } from './cluster-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/dashboard/', import.meta.url));
const TOKEN = `sections-${process.pid}-${Date.now()}`;
const PASSWORD = `redis-pw-${process.pid}`;

const JOBS_MODULE = fileURLToPath(new URL('./fixtures/dashboard-jobs.js', import.meta.url));

let redis: EmbeddedRedis;
let storeDir: string;
let cluster: LocalCluster;
let client: Client;
let runner: JobRunner;
let queue: JobQueue;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let logged = '';
let restoreStderr: () => void;
const ids = { done: [] as string[], failed: '', running: '' };
let trained: TrainManyResult;
let drift: DriftResult;
let workDir: string;

const bearer = { authorization: `Bearer ${TOKEN}` };
const api = async (path: string) => {
  const response = await fetch(new URL(path, cluster.dashboardUrl), { headers: bearer });
  assert.equal(response.status, 200, path);
  const text = await response.text();
  assert.ok(!text.includes(PASSWORD), `${path} holds no Redis password`);
  return JSON.parse(text) as SectionJson;
};
interface SectionJson {
  title: string;
  source?: string;
  readAtMs: number | null;
  error?: { code: string; message: string };
  tiles: Array<{ label: string; value: number | string }>;
  tables: Array<{ id: string; rows: Array<Record<string, unknown>>; omitted?: number }>;
}
const tile = (section: SectionJson, label: string) => section.tiles.find((candidate) => candidate.label === label)?.value;
const rows = (section: SectionJson, id: string) => section.tables.find((table) => table.id === id)?.rows ?? [];
const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });

/** Hourly CSV series (two metrics per host), a split naming them plus one slice whose column is missing. */
function writeFleet(dir: string, hosts: number, shifted: ReadonlySet<string>): string {
  const hours = 24 * 8;
  const start = Date.UTC(2026, 10, 1);
  const iso = (h: number) => new Date(start + h * 3_600_000).toISOString();
  const split = ['id,file,column,train_from,train_to,test_from,test_to'];
  for (let host = 0; host < hosts; host++) {
    const next = seededRandom(4000 + host);
    const columns = ['cpu', 'latency_ms'].map((column) => {
      const level = 20 + 60 * next();
      let x1 = 0;
      return Array.from({ length: hours }, (_, t) => {
        x1 = 0.5 * x1 + (next() - 0.5) * 4;
        // The recent day of a shifted series sits far above its training weeks.
        const shift = shifted.has(`host${host}.${column}`) && t >= hours - 24 ? 60 : 0;
        return level + 8 * Math.sin((2 * Math.PI * t) / 24) + x1 + shift;
      });
    });
    writeFileSync(join(dir, `host${host}.csv`), `ts,cpu,latency_ms\n${columns[0]!.map((_, t) => `${iso(t)},${columns[0]![t]},${columns[1]![t]}`).join('\n')}\n`);
    for (const column of ['cpu', 'latency_ms']) split.push(`host${host}.${column},host${host}.csv,${column},${iso(0)},${iso(hours - 24)},${iso(hours - 24)},${iso(hours)}`);
  }
  split.push(`host0.disk,host0.csv,disk_gb,${iso(0)},${iso(hours - 24)},${iso(hours - 24)},${iso(hours)}`);
  const path = join(dir, 'split.csv');
  writeFileSync(path, `${split.join('\n')}\n`);
  return path;
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: the test command installs it (scripts/services.mjs ensureChromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  // The scheduler's log lines come out on this process's stderr: keep them to look for the password.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  restoreStderr = () => (process.stderr.write = write);

  workDir = mkdtempSync(join(tmpdir(), 'loom-dashboard-sections-'));
  storeDir = join(workDir, 'models');
  redis = await EmbeddedRedis.start({ password: PASSWORD });
  cluster = await LocalCluster.start({ workers: 1, threadsPerWorker: 2, token: TOKEN, dashboard: { port: 0, jobsRedis: redis.url, modelStore: storeDir } });
  client = await Client.connect(cluster.address, { token: TOKEN });

  const shifted = new Set(['host1.cpu', 'host4.latency_ms', 'host6.cpu']);
  const split = await readSplit(writeFleet(workDir, 8, shifted));
  const store = await ModelStore.open(storeDir);
  await trainMany(client, { split, family: ar({ p: 4 }), store, group: 'host-metrics' });
  trained = await trainMany(client, { split, family: ar({ p: 4 }), store, group: 'host-metrics' });
  await trainMany(client, { split, family: seasonal({ period: 24 }), store, group: 'host-seasonal' });
  drift = await detectDrift(client, { store, group: 'host-metrics', split, method: 'ks' });

  runner = await JobRunner.start({ redisUrl: redis.url, scheduler: cluster.address, client: { token: TOKEN }, jobs: await loadJobs(JOBS_MODULE), concurrency: 4, cancelPollMs: 100 });
  queue = await JobQueue.open(redis.url);
  for (const day of ['2026-11-28', '2026-11-29', '2026-11-30']) ids.done.push(await queue.submit('ingest', { day }));
  ids.failed = await queue.submit('weekly-report', { week: 48 });
  ids.running = await queue.submit('backfill', { year: 2025 });
  await queue.schedule('nightly-ingest', { job: 'ingest', cron: '30 2 * * *', tz: 'Europe/Paris', params: { day: 'yesterday' } });
  await queue.schedule('sunday-report', { job: 'weekly-report', cron: '0 6 * * 0', params: {} });
  for (const id of [...ids.done, ids.failed]) await queue.finished(id, 60_000);
  await eventually('the backfill to run', async () => ((await queue.show(ids.running)).state === 'active' ? true : undefined));

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  await page.goto(new URL('/login', cluster.dashboardUrl).toString());
  await page.fill('#token', TOKEN);
  await page.click('button[type="submit"]');
  await page.waitForSelector('#memory .bar-row');
});

after(async () => {
  // Each step on its own: a test that failed with Redis just restarted must not leave processes behind.
  const quietly = (step: Promise<unknown> | undefined) => step?.catch(() => undefined);
  await quietly(context?.close());
  await quietly(browser?.close());
  // The backfill runs until cancelled, and a runner closed under a running job keeps this process alive. The
  // queue's connection may still be coming back from a Redis restart: try until it answers.
  if (ids.running && queue) {
    await quietly(eventually('the backfill cancelled', () => queue.cancel(ids.running).then(() => true, () => undefined), 10_000));
    await quietly(queue.finished(ids.running, 10_000));
  }
  await quietly(queue?.close());
  await quietly(runner?.close(1_000));
  await quietly(client?.close());
  await quietly(cluster?.close());
  await quietly(redis?.close());
  restoreStderr?.();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('the Jobs JSON: counts per state, the failure with its reason, the schedules with their next run, behind the token', async () => {
  assert.equal((await fetch(new URL('/api/v1/x/jobs', cluster.dashboardUrl))).status, 401, 'no token, no jobs');
  const jobs = await api('/api/v1/x/jobs');
  assert.equal(jobs.error, undefined);
  const counts = await queue.counts();
  for (const state of ['completed', 'failed', 'active', 'delayed', 'waiting'] as const) assert.equal(tile(jobs, state), counts[state], state);
  assert.equal(tile(jobs, 'completed'), 3);
  assert.equal(tile(jobs, 'failed'), 1);
  assert.equal(tile(jobs, 'active'), 1);
  assert.deepEqual(rows(jobs, 'failures').map((row) => [row['id'], row['name'], row['reason'], row['tries']]),
    [[ids.failed, 'weekly-report', 'table sales_2026_w48 does not exist (was the ingest for that week run?)', '2 / 2']]);
  const running = rows(jobs, 'jobs').find((row) => row['id'] === ids.running);
  assert.deepEqual(running?.['progress'], { fraction: 0.42, message: 'month 5 of 12' });
  const schedules = await queue.schedules();
  assert.deepEqual(rows(jobs, 'schedules').map((row) => [row['id'], row['next']]).sort(), schedules.map((schedule) => [schedule.id, schedule.next]).sort());
  assert.match(jobs.source ?? '', new RegExp(`^queue loom on redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}$`));
});

test('the Models JSON: versions, counts, failed slices and the drifted ids detectDrift recorded', async () => {
  const models = await api('/api/v1/x/models');
  assert.equal(models.error, undefined);
  const groups = rows(models, 'groups');
  assert.deepEqual(groups.map((row) => row['group']), ['host-metrics', 'host-seasonal']);
  const metrics = groups[0]!;
  assert.equal(metrics['version'], trained.version);
  assert.equal(metrics['kept'], 2);
  assert.equal(metrics['models'], trained.trained);
  assert.equal(metrics['failed'], trained.failed.length);
  assert.equal(trained.failed.length, 1, 'the slice without its column');
  assert.equal(metrics['family'], 'ar(p=4,d=0,k=3)');
  assert.equal(metrics['method'], 'ks');
  const drifted = metrics['drifted'] as { ids: string[]; total: number };
  assert.deepEqual([...drifted.ids].sort(), [...drift.drifted()].sort());
  assert.equal(drifted.total, drift.drifted().length);
  for (const id of ['host1.cpu', 'host4.latency_ms', 'host6.cpu']) assert.ok(drifted.ids.includes(id), `${id} drifted`);
  assert.equal(groups[1]!['drifted'], null, 'host-seasonal was never checked');
  assert.equal(tile(models, 'groups'), 2);
  assert.equal(tile(models, 'drifted'), drift.drifted().length);
});

test('the Jobs page shows the states, the running backfill, the failure and the schedules', async () => {
  await page.click('nav a[data-page="jobs"]');
  await page.waitForSelector('#x-jobs tbody tr');
  assert.equal(await page.textContent('h1'), 'Jobs');
  assert.equal(await page.textContent('#section-tiles .stat[data-label="failed"] .value'), '1');
  assert.equal(await page.textContent('#section-tiles .stat[data-label="completed"] .value'), '3');
  assert.equal(await page.$$eval('#x-jobs tbody tr', (elements) => elements.length), (await api('/api/v1/x/jobs')).tables[0]!.rows.length);
  assert.match(await page.textContent(`#x-jobs tbody tr[data-key="${ids.running}"]`) ?? '', /backfill\s*active\s*42 %\s*month 5 of 12/);
  assert.match(await page.textContent('#x-failures tbody') ?? '', /weekly-report\s*table sales_2026_w48 does not exist/);
  const next = await page.textContent('#x-schedules tbody tr[data-key="nightly-ingest"] td[data-col="next"]');
  assert.match(next ?? '', /^in \d+ (s|min|h)$/);
  assert.ok(!(await page.content()).includes(PASSWORD));
  await shot('jobs');
});

test('the Models page shows every group, and the drifted ids on expanding', async () => {
  await page.click('nav a[data-page="models"]');
  await page.waitForSelector('#x-groups tbody tr[data-key="host-seasonal"]');
  assert.equal(await page.textContent('#section-tiles .stat[data-label="groups"] .value'), '2');
  const cell = '#x-groups tbody tr[data-key="host-metrics"] td[data-col="drifted"]';
  assert.equal(await page.textContent(`${cell} summary`), `${drift.drifted().length} drifted`);
  await shot('models');
  await page.click(`${cell} summary`);
  const shown = await page.$$eval(`${cell} .id-list code`, (elements) => elements.map((element) => element.textContent));
  assert.deepEqual([...shown].sort(), [...drift.drifted()].sort());
  // The next refresh (every 2 s) leaves the list open.
  const readAt = await page.textContent('.section-read');
  await eventually('a refresh of the page', async () => ((await page.textContent('.section-read')) !== readAt ? true : undefined));
  assert.equal(await page.getAttribute(`${cell} details`, 'open'), '');
  await shot('models-drift');
});

test('Redis killed: the Jobs page says so and the rest of the dashboard answers; Redis back: it recovers', async () => {
  await page.click('nav a[data-page="jobs"]');
  await page.waitForSelector('#x-jobs tbody tr');
  await redis.kill('SIGKILL');
  try {
    await page.waitForSelector('#section-error:not([hidden])', { timeout: 15_000 });
    assert.equal(await page.getAttribute('#section-error', 'data-code'), 'REDIS_UNREACHABLE');
    const down = await api('/api/v1/x/jobs');
    assert.equal(down.error?.code, 'REDIS_UNREACHABLE');
    assert.equal(tile(down, 'failed'), 1, 'the last read stays on the page');
    assert.equal((await fetch(new URL('/api/v1/snapshot', cluster.dashboardUrl), { headers: bearer })).status, 200);
    assert.equal((await api('/api/v1/x/models')).error, undefined, 'the models section is unaffected');
    assert.ok(!(await page.content()).includes(PASSWORD));
    await shot('jobs-redis-down');
  } finally {
    await redis.restart();
  }
  await page.waitForSelector('#section-error', { state: 'hidden', timeout: 20_000 });
  assert.equal((await api('/api/v1/x/jobs')).error, undefined);
  const warnings = logged.split('\n').filter((line) => line.includes("dashboard section 'jobs' cannot read its data"));
  assert.equal(warnings.length, 1, `one warning for the outage: ${warnings.join('\n')}`);
  assert.ok(!logged.includes(PASSWORD), 'the password is in no log line');
});
