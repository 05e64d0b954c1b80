// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against live clusters: the status
// page shows the workers and memory figures the scheduler reports, the task stream and progress move and reach
// completion, an erred task shows as an error, /metrics parses as Prometheus text and agrees with
// schedulerInfo(), a worker's page shows its log lines as they come, a token cluster asks for a login first, and
// a page open over many graphs stays bounded.
// Screenshots of every page land in test/artifacts/dashboard/ (not committed).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePrometheusText as parsePrometheusTextFormat, type PrometheusFamily } from '@loom/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Client, delayed, LocalCluster } from '@loom/client';
import { eventually, useCluster } from './cluster-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/dashboard/', import.meta.url));

const fixture = useCluster({ workers: 2, threadsPerWorker: 2, memoryLimit: '1GiB', dashboard: { port: 0 } });
let browser: Browser;
let page: Page;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: the test command installs it (scripts/services.mjs ensureChromium; apt-get install -y chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
});

after(async () => {
  await browser?.close();
});

const url = (path: string) => new URL(path, fixture.cluster.dashboardUrl).toString();
const shot = (target: Page, name: string) => target.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });

/** A task that keeps a thread busy for 8 ms (so a graph runs long enough to watch). */
const busy = (i: number) => {
  const end = Date.now() + 8;
  while (Date.now() < end);
  return i;
};
/** What `$$eval` hands its function (the test compiles without the DOM library). */
type Attributed = { getAttribute(name: string): string | null };

test('the status page shows every worker with the memory figures the scheduler reports', async () => {
  assert.ok(fixture.cluster.dashboardUrl, 'LocalCluster reports the dashboard URL');
  await page.goto(url('/status'));
  await page.waitForSelector('#memory .bar-row:nth-child(2)');
  assert.equal(await page.textContent('#total-workers .value'), '2');
  const info = await fixture.client.schedulerInfo();
  const rows = await page.$$eval('#memory .bar-row', (elements, names) => (elements as unknown as Attributed[]).map((element) =>
    Object.fromEntries(names.map((name) => [name, element.getAttribute(`data-${name}`) ?? '']))), ['worker-id', 'limit', 'rss', 'managed']);
  assert.equal(rows.length, info.workers.length);
  for (const worker of info.workers) {
    const row = rows.find((candidate) => candidate['worker-id'] === worker.id);
    assert.ok(row, `a memory bar for ${worker.id}`);
    assert.equal(Number(row['limit']), worker.memoryLimit);
    // Both read the last heartbeat; one may have arrived between the two reads (they come once a second).
    assert.ok(Math.abs(Number(row['rss']) - worker.rssBytes) < 64 * 2 ** 20, `RSS on the page ${row['rss']} vs schedulerInfo ${worker.rssBytes}`);
    assert.ok(Math.abs(Number(row['managed']) - worker.managedBytes) < 64 * 2 ** 20);
  }
});

test('the task stream and progress move while a graph runs and reach completion', async () => {
  const tasksBefore = Number(await page.getAttribute('#task-stream', 'data-total'));
  const [newestBefore] = (await (await fetch(url('/api/v1/tasks?after=0&limit=1'))).json()) as Array<{ seq: number }>;
  const futures = fixture.client.map(busy, Array.from({ length: 240 }, (_, i) => i), { pure: false });
  const seen = new Set<string>();
  const gathered = fixture.client.gather(futures);
  let finished = false;
  void gathered.then(() => (finished = true));
  while (!finished) {
    const done = await page.$$eval('#progress .progress-row', (elements) => (elements as unknown as Attributed[]).map((element) => element.getAttribute('data-done')).join(','));
    seen.add(done);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(((await gathered) as number[])[239], 239);
  assert.ok(seen.size >= 3, `progress moved through several values while the graph ran (saw ${[...seen].join(' | ')})`);
  await eventually('the busy prefix at 240 / 240', async () => {
    const row = await page.$('#progress .progress-row[data-name="busy"]');
    return row && (await row.getAttribute('data-done')) === '240' && (await row.getAttribute('data-total')) === '240' ? true : undefined;
  });
  await eventually('240 more tasks in the task stream', async () =>
    Number(await page.getAttribute('#task-stream', 'data-total')) >= tasksBefore + 240 ? true : undefined);
  // One row per worker thread: each task is drawn in the row of the thread that ran it, as its worker reported.
  const events = (await (await fetch(url(`/api/v1/tasks?after=${newestBefore?.seq ?? 0}&limit=8192`))).json()) as Array<{ worker: string; thread: number; kind: string; name: string }>;
  const ran = events.filter((event) => event.kind === 'compute');
  assert.ok(ran.every((event) => event.name === 'busy'), 'each event names its function');
  assert.ok(ran.length >= 240, `the busy runs are in the task events (${ran.length})`);
  assert.ok(ran.every((event) => event.thread === 1 || event.thread === 2), `threads are 1 or 2: ${[...new Set(ran.map((event) => event.thread))].join(', ')}`);
  const threadsUsed = new Set(ran.map((event) => `${event.worker}/${event.thread}`));
  // However the scheduler spread them, a worker given more than one 8 ms task at a time ran them on both threads.
  const workersOnBoth = new Set(ran.map((event) => event.worker)).size < threadsUsed.size;
  assert.ok(workersOnBoth, `a worker ran tasks on both its threads (${[...threadsUsed].join(', ')})`);
  assert.ok(Number(await page.getAttribute('#task-stream', 'data-rows')) >= 2, 'and the page draws them in as many rows');
  await shot(page, 'status');
  for (const future of futures) future.release();
});

test('an erred task appears as an error in the stream, the progress and the failures', async () => {
  const fails = (x: number) => {
    throw new Error(`dashboard test failure ${x}`);
  };
  await assert.rejects(fixture.client.submit(fails, 7).result());
  await eventually('an error rectangle in the task stream', async () => (Number(await page.getAttribute('#task-stream', 'data-errors')) >= 1 ? true : undefined));
  await eventually('the failure listed', async () => ((await page.textContent('#failures'))?.includes('dashboard test failure 7') ? true : undefined));
  const erred = await page.getAttribute('#progress .progress-row[data-name="fails"]', 'data-erred');
  assert.equal(erred, '1');
  await shot(page, 'status-error');
});

test('/metrics parses as Prometheus text and agrees with schedulerInfo()', async () => {
  const held = fixture.client.map((x: number) => x * 2, [1, 2, 3, 4, 5], { pure: false });
  await fixture.client.gather(held);
  // Heartbeats move memory figures; compare a scrape and an info call taken back to back, twice if needed.
  const text = await (await fetch(url('/metrics'))).text();
  const info = await fixture.client.schedulerInfo();
  const families = new Map(parsePrometheusTextFormat(text).map((family: PrometheusFamily) => [family.name, family]));
  const value = (name: string, labels: Record<string, string> = {}) => {
    const family = families.get(name);
    assert.ok(family, `${name} is exported`);
    const sample = family.metrics.find((metric) => Object.entries(labels).every(([key, expected]) => metric.labels?.[key] === expected));
    assert.ok(sample, `${name}${JSON.stringify(labels)} is exported`);
    return Number(sample.value);
  };
  assert.equal(value('loom_scheduler_workers'), info.workers.length);
  assert.equal(value('loom_scheduler_clients'), info.clients);
  for (const state of ['memory', 'processing', 'waiting', 'queued', 'erred']) assert.equal(value('loom_scheduler_tasks', { state }), info.taskCounts[state] ?? 0, state);
  for (const worker of info.workers) {
    assert.equal(value('loom_worker_memory_limit_bytes', { worker: worker.name }), worker.memoryLimit);
    assert.equal(value('loom_worker_threads', { worker: worker.name }), worker.nthreads);
    assert.ok(Math.abs(value('loom_worker_memory_bytes', { worker: worker.name, type: 'managed' }) - worker.managedBytes) < 64 * 2 ** 20);
    assert.equal(value('loom_worker_tasks', { worker: worker.name, state: 'memory' }), worker.inMemory);
  }
  assert.ok(value('loom_scheduler_tasks_compute_seconds_total', { prefix: 'busy' }) >= 240 * 0.008 * 0.9, 'the busy prefix ran ~2 s of tasks');
  assert.equal(families.get('loom_scheduler_tasks_forgotten_total')?.type, 'COUNTER');
  for (const future of held) future.release();
});

test('the workers, worker and graph pages render', async () => {
  const leaf = delayed((i: number) => i, { pure: false });
  const add = delayed((a: number, b: number) => a + b, { pure: false });
  let level = Array.from({ length: 64 }, (_, i) => leaf(i));
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) next.push(add(level[i]!, level[i + 1]!));
    level = next;
  }
  const total = fixture.client.compute(level[0]!);
  await page.click('nav a[data-page="graph"]');
  await page.waitForSelector('#graph-svg .node');
  assert.equal(await total.result(), (64 * 63) / 2);
  await eventually('two task groups and an edge', async () => ((await page.$$('#graph-svg .node')).length >= 2 && (await page.$$('#graph-svg .edge')).length >= 1 ? true : undefined));
  await shot(page, 'graph');
  total.release();
  await page.click('nav a[data-page="workers"]');
  await page.waitForSelector('#workers-body tr:nth-child(2)');
  await shot(page, 'workers');
  await page.click('#workers-body tr:first-child a');
  await page.waitForSelector('#worker-tasks tr');
  const threads = await page.$$eval('#worker-tasks tr td:nth-child(2)', (cells) => (cells as unknown as { textContent: string | null }[]).map((cell) => cell.textContent));
  assert.ok(threads.some((thread) => thread === '1' || thread === '2') && threads.every((thread) => ['1', '2', '–'].includes(thread ?? '')), `thread column: ${threads.join(' ')}`);
  await page.waitForSelector('#worker-logs li');
  await shot(page, 'worker');
  await page.goto(url('/status'));
});

test('a worker page shows the worker\'s log lines, new ones while it is open, a warning in the warning colour', async () => {
  // A task that ends its thread makes its worker warn as it replaces the thread.
  const exits = (code: number) => {
    process.exit(code);
  };
  /** Ends a thread with `code`; resolves with the worker that ran it. */
  const death = async (code: number) => {
    await assert.rejects(fixture.client.submit(exits, code).result());
    const failure = await eventually(`the failure of exit code ${code}`, async () =>
      ((await (await fetch(url('/api/v1/failures?limit=50'))).json()) as { worker: string; message: string }[]).find((entry) => entry.message.includes(`(exit code ${code})`)));
    return failure.worker;
  };
  const warned = (code: number) => eventually(`the warning of exit code ${code} on the page`, async () => {
    const texts = await page.$$eval('#worker-logs li[data-level="warn"]', (elements) => (elements as unknown as { textContent: string | null }[]).map((element) => element.textContent ?? ''));
    return texts.some((text) => text.includes('task thread died; replacing it') && text.includes(`"cause":"exit code ${code}"`)) ? true : undefined;
  });
  const workerId = await death(60);
  await page.goto(url(`/workers/${encodeURIComponent(workerId)}`));
  await warned(60);
  // Either worker may run the next one: until this page's worker does, then its line must appear without a reload.
  let code = 61;
  while ((await death(code)) !== workerId) {
    code += 1;
    assert.ok(code < 80, `one of 20 thread deaths ran on ${workerId}`);
  }
  await warned(code);
  const [levelColour, warnColour] = await page.evaluate<[string, string]>(`(() => {
    const level = document.querySelector('#worker-logs li[data-level="warn"] .level');
    const probe = document.body.appendChild(document.createElement('span'));
    probe.style.color = 'var(--warn)';
    const colours = [getComputedStyle(level).color, getComputedStyle(probe).color];
    probe.remove();
    return colours;
  })()`);
  assert.equal(levelColour, warnColour);
  await shot(page, 'worker-logs');
  await page.goto(url('/status'));
});

test('a page open over many graphs stays bounded (DOM nodes and JS heap)', async () => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const measure = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const metric = (name: string) => metrics.find((entry) => entry.name === name)?.value ?? 0;
    return { nodes: await page.evaluate<number>('document.getElementsByTagName("*").length'), heap: metric('JSHeapUsedSize') };
  };
  const runGraphs = async (count: number) => {
    for (let graph = 0; graph < count; graph++) {
      const futures = fixture.client.map((x: number) => x + 1, Array.from({ length: 300 }, (_, i) => i), { pure: false });
      await fixture.client.gather(futures);
      for (const future of futures) future.release();
    }
  };
  await runGraphs(5);
  const early = await measure();
  await runGraphs(40);
  await new Promise((resolve) => setTimeout(resolve, 600));
  const late = await measure();
  assert.ok(late.nodes <= early.nodes * 1.2 + 50, `DOM nodes grew from ${early.nodes} to ${late.nodes}`);
  assert.ok(late.heap <= early.heap * 1.5 + 4 * 2 ** 20, `JS heap grew from ${early.heap} to ${late.heap} bytes`);
  const held = Number(await page.getAttribute('#task-stream', 'data-tasks'));
  assert.ok(held <= 4000, `the task stream keeps at most 4000 rectangles, holds ${held}`);
  await cdp.detach();
});

test('with a cluster token: login page first, the dashboard after, streams closed at logout', async () => {
  const token = `dash-${process.pid}-${Date.now()}`;
  const cluster = await LocalCluster.start({ workers: 1, token, dashboard: { port: 0 } });
  const client = await Client.connect(cluster.address, { token });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const base = cluster.dashboardUrl!;
    assert.equal((await fetch(new URL('/health', base))).status, 200, '/health stays open for probes');
    assert.equal((await fetch(new URL('/metrics', base))).status, 401, '/metrics needs the token');
    assert.equal((await fetch(new URL('/api/v1/snapshot', base))).status, 401);
    const bearer = await fetch(new URL('/api/v1/snapshot', base), { headers: { authorization: `Bearer ${token}` } });
    assert.equal(bearer.status, 200, 'Authorization: Bearer works for tools');
    const first = await context.newPage();
    await first.goto(new URL('/status', base).toString());
    assert.ok(first.url().endsWith('/login'), `sent to the login page, at ${first.url()}`);
    await first.fill('#token', 'not the token');
    await first.click('button[type="submit"]');
    await first.waitForSelector('#failed:not([hidden])');
    assert.ok(!first.url().includes('not'), 'a failed login puts nothing of the attempt in the URL');
    await first.fill('#token', token);
    await first.click('button[type="submit"]');
    await first.waitForSelector('#memory .bar-row');
    assert.equal(await first.textContent('#total-workers .value'), '1');
    assert.ok(!(await first.content()).includes(token), 'the token is not in the page');
    assert.ok(!first.url().includes(token));
    const [cookie] = await context.cookies();
    assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', `HttpOnly SameSite=Strict session cookie: ${JSON.stringify({ ...cookie, value: '…' })}`);
    assert.notEqual(cookie.value, token, 'the cookie holds a session id, not the token');
    await shot(first, 'status-token');
    // Logging out in another tab ends the session: the first tab's event stream closes and it goes to the login page.
    const second = await context.newPage();
    await second.goto(new URL('/workers', base).toString());
    await second.waitForSelector('#logout:not([hidden]) button');
    await second.click('#logout button');
    await first.waitForURL(/\/login$/, { timeout: 10_000 });
    const login = await context.newPage();
    await login.goto(new URL('/login', base).toString());
    await shot(login, 'login');
  } finally {
    await context.close();
    await client.close();
    await cluster.close();
  }
});
