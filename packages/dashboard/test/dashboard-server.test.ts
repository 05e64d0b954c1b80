// The dashboard server over a fake source: the token rules (login cookie, bearer, /health open, /metrics behind
// the token unless opened, no token in any answer), the Host check of a tokenless dashboard, event streams that
// share one snapshot per interval and close when their session ends, /metrics that a Prometheus parser reads, and
// a worker's answer with its log lines.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { parsePrometheusText as parsePrometheusTextFormat } from '@loom/testing';
import { EVENT_FIELDS, startDashboard, type DashboardHandle } from '../src/index.js';
import { fakeWorker, FakeSource } from './fake-source.js';

const TOKEN = `token-${process.pid}-${Date.now()}`;
const handles: DashboardHandle[] = [];
after(async () => {
  await Promise.all(handles.map((handle) => handle.close()));
});

async function start(options: { token?: string; metricsOpen?: boolean; source?: FakeSource } = {}) {
  const source = options.source ?? new FakeSource();
  const handle = await startDashboard({ source, port: 0, token: options.token, metricsOpen: options.metricsOpen, feed: { intervalMs: 50 } });
  handles.push(handle);
  return { source, handle, at: (path: string) => new URL(path, handle.url) };
}

async function login(at: (path: string) => URL, token: string): Promise<Response> {
  return fetch(at('/login'), { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
}

/** Reads server-sent events until `until` says stop or the stream ends; returns the event names. */
async function readEvents(url: URL, headers: Record<string, string>, until: (names: string[]) => boolean): Promise<string[]> {
  const response = await fetch(url, { headers });
  assert.equal(response.status, 200);
  const names: string[] = [];
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body!) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    for (const match of text.matchAll(/^event: (\w+)$/gm)) names.push(match[1]!);
    text = text.slice(text.lastIndexOf('\n\n') + 2);
    if (until(names)) break;
  }
  return names;
}

test('with a token: /health is open, everything else needs the token, and no answer contains it', async () => {
  const { at } = await start({ token: TOKEN });
  assert.equal((await fetch(at('/health'))).status, 200);
  for (const path of ['/metrics', '/api/v1/snapshot', '/api/v1/events', '/api/v1/workers']) assert.equal((await fetch(at(path))).status, 401, path);
  const page = await fetch(at('/status'), { redirect: 'manual' });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/login');
  assert.equal((await fetch(at('/api/v1/snapshot'), { headers: { authorization: 'Bearer wrong' } })).status, 401);
  const bearer = await fetch(at('/api/v1/snapshot'), { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(bearer.status, 200);
  assert.ok(!(await bearer.text()).includes(TOKEN));
  const failed = await login(at, 'wrong');
  assert.equal(failed.headers.get('location'), '/login?failed=1');
  assert.equal(failed.headers.get('set-cookie'), null);
  const loggedIn = await login(at, TOKEN);
  const cookie = loggedIn.headers.get('set-cookie')!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.ok(!cookie.includes(TOKEN), 'the cookie holds a session id, not the token');
  const session = cookie.split(';')[0]!;
  const withCookie = await fetch(at('/status'), { headers: { cookie: session } });
  assert.equal(withCookie.status, 200);
  assert.ok(!(await withCookie.text()).includes(TOKEN));
});

test('/metrics follows the token unless metricsOpen', async () => {
  const { at } = await start({ token: TOKEN, metricsOpen: true });
  assert.equal((await fetch(at('/metrics'))).status, 200);
  assert.equal((await fetch(at('/api/v1/snapshot'))).status, 401, 'only /metrics opens');
});

test('an event stream of a session closes when the session is logged out', async () => {
  const { at } = await start({ token: TOKEN });
  const session = (await login(at, TOKEN)).headers.get('set-cookie')!.split(';')[0]!;
  let loggedOut = false;
  const names = await readEvents(at('/api/v1/events'), { cookie: session }, (seen) => {
    if (!loggedOut && seen.includes('update')) {
      loggedOut = true;
      void fetch(at('/logout'), { method: 'POST', headers: { cookie: session }, redirect: 'manual' });
    }
    return seen.includes('unauthorized');
  });
  assert.equal(names[0], 'init');
  assert.ok(names.includes('unauthorized'), `the stream ended with unauthorized: ${names.join(', ')}`);
  assert.equal((await fetch(at('/api/v1/snapshot'), { headers: { cookie: session } })).status, 401);
});

test('viewers share one snapshot per interval, and each task event reaches each viewer once', async () => {
  const { source, at } = await start();
  source.workers = [fakeWorker({ id: 'w1' })];
  const producer = setInterval(() => source.addEvent(), 5);
  const viewers = 5;
  const seqs = await Promise.all(Array.from({ length: viewers }, async () => {
    const response = await fetch(at('/api/v1/events'));
    const decoder = new TextDecoder();
    let text = '';
    const seen: number[] = [];
    let frames = 0;
    for await (const chunk of response.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const data = text.slice(0, end).split('\n').find((line) => line.startsWith('data: '));
        text = text.slice(end + 2);
        if (data === undefined) continue;
        const { events } = JSON.parse(data.slice(6)) as { events: { rows: number[] } };
        for (let i = 0; i < events.rows.length; i += EVENT_FIELDS) seen.push(events.rows[i]!);
        frames += 1;
      }
      if (frames >= 8) break;
    }
    return seen;
  }));
  clearInterval(producer);
  for (const seen of seqs) {
    assert.deepEqual(seen, [...new Set(seen)].sort((a, b) => a - b), 'no event twice, in order');
    for (let i = 1; i < seen.length; i++) assert.equal(seen[i], seen[i - 1]! + 1, `no event missed (after ${seen[i - 1]})`);
  }
  // Five viewers over ~8 intervals: about one snapshot per interval, not one per viewer per interval.
  assert.ok(source.snapshots <= 8 * 2 + viewers + 4, `${source.snapshots} snapshots for ${viewers} viewers`);
});

test('without a token, a request naming another host is refused (DNS rebinding)', async () => {
  const { handle } = await start();
  const status = await new Promise<number>((resolve, reject) => {
    const call = request({ host: '127.0.0.1', port: handle.port, path: '/api/v1/snapshot', headers: { host: 'evil.example:8787' } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    call.on('error', reject);
    call.end();
  });
  assert.equal(status, 421);
  assert.equal((await fetch(new URL('/api/v1/snapshot', handle.url))).status, 200);
});

test('/metrics is Prometheus text a parser reads, with every worker', async () => {
  const source = new FakeSource();
  source.workers = Array.from({ length: 700 }, (_, i) => fakeWorker({
    id: `w${i}`, nthreads: 2, memoryLimit: 100, managedBytes: i, unmanagedBytes: 1, spilledBytes: 2, rssBytes: i + 1, paused: i === 3, processing: 1, inMemory: i, lastSeenMsAgo: 10,
    spillWriteBytesTotal: 10 * i, spillReadBytesTotal: 5 * i, transferIncomingBytesTotal: 3 * i, transferOutgoingBytesTotal: 7 * i,
    thresholds: { target: 0.5, spill: 0.7, pause: i === 5 ? 0 : 0.8, terminate: 0.95 },
  }));
  const { at } = await start({ source });
  const families = parsePrometheusTextFormat(await (await fetch(at('/metrics'))).text());
  const memory = families.find((family) => family.name === 'loom_worker_memory_bytes')!;
  assert.equal(memory.metrics.length, 700 * 3, 'beyond the pages\' cap of 512 workers');
  assert.equal(memory.metrics.find((metric) => metric.labels?.['worker'] === 'w9' && metric.labels['type'] === 'managed')?.value, '9');
  assert.equal(families.find((family) => family.name === 'loom_scheduler_workers')!.metrics[0]!.value, '700');
  const sample = (name: string, labels: Record<string, string>) =>
    families.find((family) => family.name === name)?.metrics.find((metric) => Object.entries(labels).every(([k, v]) => metric.labels?.[k] === v))?.value;
  assert.equal(families.find((family) => family.name === 'loom_worker_spill_bytes_total')?.type, 'COUNTER');
  assert.deepEqual(
    [sample('loom_worker_spill_bytes_total', { worker: 'w9', activity: 'disk_write' }), sample('loom_worker_spill_bytes_total', { worker: 'w9', activity: 'disk_read' })],
    ['90', '45'],
  );
  assert.equal(sample('loom_worker_transfer_incoming_bytes_total', { worker: 'w9' }), '27');
  assert.equal(sample('loom_worker_transfer_outgoing_bytes_total', { worker: 'w9' }), '63');
  assert.equal(sample('loom_worker_memory_threshold_ratio', { worker: 'w9', threshold: 'target' }), '0.5');
  assert.equal(sample('loom_worker_memory_threshold_ratio', { worker: 'w5', threshold: 'pause' }), '0', 'a threshold turned off');
});

test('a worker\'s API answer carries its recent log lines, and only its own', async () => {
  const source = new FakeSource();
  source.workers = [fakeWorker({ id: 'w1' }), fakeWorker({ id: 'w2' })];
  const line = { seq: 7, timeMs: 1_000, level: 'warn', msg: '<b>not markup</b>', fields: '{"peer":"127.0.0.1:9"}' };
  source.logs.set('w1', { lines: [line], dropped: 3 });
  const { at } = await start({ source });
  const detail = (await (await fetch(at('/api/v1/workers/w1'))).json()) as { logs: unknown[]; logsDropped: number };
  assert.deepEqual([detail.logs, detail.logsDropped], [[line], 3]);
  const other = (await (await fetch(at('/api/v1/workers/w2'))).json()) as { logs: unknown[]; logsDropped: number };
  assert.deepEqual([other.logs, other.logsDropped], [[], 0]);
});
