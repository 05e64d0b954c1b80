// Extension sections over the dashboard server: behind the cluster token like every other route, read only when
// asked and at most once per interval however many viewers ask at once, a failing or hanging source shown as an
// error beside its last content (warned once per outage) that recovers by itself, plain rows still drawn as a
// table, and section ids that could not be routed refused at start.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardError, startDashboard, type DashboardExtension, type DashboardHandle, type SectionAnswer, type SectionContent } from '../src/index.js';
import { FakeSource } from './fake-source.js';

const TOKEN = `sections-${process.pid}-${Date.now()}`;
const handles: DashboardHandle[] = [];
after(async () => {
  await Promise.all(handles.map((handle) => handle.close()));
});

/** A section whose content and failures the test sets, counting its reads. */
class TestSection implements DashboardExtension {
  readonly id: string;
  readonly title = 'Test section';
  reads = 0;
  closed = false;
  failWith: Error | undefined;
  hang = false;
  value: unknown;

  constructor(id: string, value: unknown = content('first')) {
    this.id = id;
    this.value = value;
  }

  async data(): Promise<unknown> {
    this.reads += 1;
    // Concurrent askers arrive while this read is under way.
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (this.hang) await new Promise(() => undefined);
    if (this.failWith) throw this.failWith;
    return this.value;
  }

  close(): void {
    this.closed = true;
  }
}

function content(label: string): SectionContent {
  return {
    tiles: [{ label: 'things', value: 3 }],
    tables: [{ id: 'things', title: 'Things', columns: [{ key: 'id', label: 'ID' }], rows: [{ id: label }] }],
  };
}

async function start(sections: DashboardExtension[], options: { token?: string; maxAgeMs?: number; timeoutMs?: number } = {}) {
  const warnings: string[] = [];
  const infos: string[] = [];
  const handle = await startDashboard({
    source: new FakeSource(),
    port: 0,
    token: options.token,
    extensions: sections,
    sections: { maxAgeMs: options.maxAgeMs ?? 60_000, timeoutMs: options.timeoutMs ?? 5_000 },
    warn: (message) => warnings.push(message),
    info: (message) => infos.push(message),
  });
  handles.push(handle);
  const headers = options.token ? { authorization: `Bearer ${options.token}` } : undefined;
  const answer = async (id: string): Promise<SectionAnswer> => {
    const response = await fetch(new URL(`/api/v1/x/${id}`, handle.url), { headers });
    assert.equal(response.status, 200);
    return (await response.json()) as SectionAnswer;
  };
  return { handle, warnings, infos, answer, at: (path: string) => new URL(path, handle.url) };
}

/** Polls until `check` returns true (the cache's interval has to pass: wait for it, do not sleep a guess). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a section and its JSON are behind the cluster token, like every other route', async () => {
  const section = new TestSection('jobs');
  const { at } = await start([section], { token: TOKEN });
  assert.equal((await fetch(at('/api/v1/x/jobs'))).status, 401);
  assert.equal((await fetch(at('/api/v1/extensions'))).status, 401);
  const page = await fetch(at('/x/jobs'), { redirect: 'manual' });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/login');
  assert.equal(section.reads, 0, 'an unauthenticated request reads nothing');
  const bearer = { authorization: `Bearer ${TOKEN}` };
  const listed = await (await fetch(at('/api/v1/extensions'), { headers: bearer })).json();
  assert.deepEqual(listed, [{ id: 'jobs', title: 'Test section' }]);
  const answer = (await (await fetch(at('/api/v1/x/jobs'), { headers: bearer })).json()) as SectionAnswer;
  assert.equal(answer.title, 'Test section');
  assert.deepEqual(answer.tables[0]?.rows, [{ id: 'first' }]);
  assert.equal((await fetch(at('/x/jobs'), { headers: bearer })).status, 200);
  assert.equal((await fetch(at('/api/v1/x/nothing'), { headers: bearer })).status, 404);
});

test('nothing is read until asked; viewers asking at once share one read, and later ones get it until it is old', async () => {
  const section = new TestSection('shared');
  const { answer, at } = await start([section], { maxAgeMs: 200 });
  await fetch(at('/api/v1/snapshot'));
  assert.equal(section.reads, 0, 'no read while no one has the section open');
  const answers = await Promise.all(Array.from({ length: 12 }, () => answer('shared')));
  assert.equal(section.reads, 1, 'twelve viewers at once: one read');
  assert.ok(answers.every((one) => one.readAtMs === answers[0]!.readAtMs && one.error === undefined));
  section.value = content('second');
  assert.deepEqual((await answer('shared')).tables[0]?.rows, [{ id: 'first' }], 'within the interval: the cached read');
  assert.equal(section.reads, 1);
  await until('a fresh read after the interval', async () => JSON.stringify((await answer('shared')).tables[0]?.rows) === '[{"id":"second"}]');
  assert.equal(section.reads, 2);
});

test('a failing source shows its error beside the last content, warns once per outage, and recovers', async () => {
  const section = new TestSection('flaky');
  const { answer, warnings, infos } = await start([section], { maxAgeMs: 30 });
  const good = await answer('flaky');
  assert.equal(good.error, undefined);
  section.failWith = Object.assign(new Error('Redis at redis://:***@127.0.0.1:1 is down'), { code: 'REDIS_UNREACHABLE' });
  await until('the error', async () => (await answer('flaky')).error !== undefined);
  const failing = await answer('flaky');
  assert.equal(failing.error?.code, 'REDIS_UNREACHABLE');
  assert.match(failing.error?.message ?? '', /is down/);
  assert.deepEqual(failing.tables, good.tables, 'the last content that was read stays, marked by readAtMs');
  assert.equal(failing.readAtMs, good.readAtMs);
  const readsWhenFailing = section.reads;
  await until('more failed reads', async () => (await answer('flaky')) !== undefined && section.reads >= readsWhenFailing + 3);
  assert.equal(warnings.length, 1, `one warning for the outage, not one per read: ${warnings.join(' | ')}`);
  assert.match(warnings[0]!, /section 'flaky' cannot read its data \(REDIS_UNREACHABLE\)/);
  section.failWith = undefined;
  section.value = content('back');
  await until('the recovery', async () => (await answer('flaky')).error === undefined);
  assert.deepEqual((await answer('flaky')).tables[0]?.rows, [{ id: 'back' }]);
  assert.equal(infos.length, 1);
  section.failWith = new Error('again');
  await until('the second outage', async () => (await answer('flaky')).error?.code === 'SECTION_FAILED');
  assert.equal(warnings.length, 2, 'a new outage warns again');
});

test('a read that hangs is reported after the timeout, and the dashboard keeps answering', async () => {
  const section = new TestSection('slow');
  section.hang = true;
  const { answer, at } = await start([section], { maxAgeMs: 30, timeoutMs: 150 });
  const [hung, snapshot] = await Promise.all([answer('slow'), fetch(at('/api/v1/snapshot'))]);
  assert.equal(snapshot.status, 200);
  assert.equal(hung.error?.code, 'SECTION_TIMEOUT');
  assert.equal(hung.readAtMs, null, 'never read');
  section.hang = false;
  await until('a read that answers', async () => (await answer('slow')).error === undefined);
});

test('a section that returns plain rows is drawn as one table with a column per key', async () => {
  const rows = [{ name: 'a', count: 1 }, { name: 'b', nested: { x: 1 } }];
  const { answer } = await start([new TestSection('plain', rows)]);
  const table = (await answer('plain')).tables[0]!;
  assert.deepEqual(table.columns.map((column) => column.key), ['name', 'count', 'nested']);
  assert.deepEqual(table.rows, [{ '#': 0, name: 'a', count: 1, nested: null }, { '#': 1, name: 'b', count: null, nested: '{"x":1}' }]);
});

test('closing the dashboard closes its sections; ids that cannot be a path are refused', async () => {
  const section = new TestSection('closing');
  const { handle } = await start([section]);
  await handle.close();
  assert.ok(section.closed);
  await assert.rejects(startDashboard({ source: new FakeSource(), port: 0, extensions: [new TestSection('a/b')] }), (error: unknown) => error instanceof DashboardError && error.code === 'BAD_OPTIONS');
  await assert.rejects(startDashboard({ source: new FakeSource(), port: 0, extensions: [new TestSection('x'), new TestSection('x')] }), /two dashboard sections have the id 'x'/);
});
