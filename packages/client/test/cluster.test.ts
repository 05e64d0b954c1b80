// The client against a real LocalCluster (scheduler and worker processes), one cluster for the whole file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, LocalCluster, compute, delayed, isLoomError, persist, ref, task, type Future } from '../src/index.js';

const token = `token-${randomUUID()}`;
let cluster: LocalCluster;
let client: Client;

before(async () => {
  // A small message limit makes large graphs travel in several chunks and lets a modest argument be too large.
  cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, memoryLimit: '1GiB', token, schedulerArgs: ['--max-message-size', '1MiB'] });
  client = await Client.connect(cluster.address, { token });
});

after(async () => {
  await client?.close();
  await cluster?.close();
});

const inc = delayed((x: number) => x + 1);
const add = delayed((a: number, b: number) => a + b);

test('the delayed API: compute, compute together, persist', async () => {
  const total = add(inc(1), inc(2));
  assert.equal(await total.compute(), 5);
  assert.deepEqual(await compute(total, inc(10)), [5, 11]);
  const [kept] = await persist(total);
  assert.ok(kept.persisted);
  assert.equal(await kept.compute(), 5);
  assert.equal(await add(kept, 10).compute(), 15);
  kept.release();
});

test('futures: submit, map, gather of nested structures, asCompleted', async () => {
  const doubled = client.submit((x: number) => x * 2, 21);
  assert.equal(await doubled.result(), 42);
  const squares = client.map((x: number) => x * x, [1, 2, 3]);
  assert.deepEqual(await client.gather(squares), [1, 4, 9]);
  assert.deepEqual(await client.gather({ answer: doubled, all: [squares[0], squares[2]] }), { answer: 42, all: [1, 9] });
  const chained = client.submit((a: number, b: number[]) => a + b.length, doubled, [1, 2]);
  assert.equal(await chained.result(), 44);
  const seen: number[] = [];
  for await (const done of client.asCompleted(client.map((x: number) => x + 100, [1, 2, 3]))) seen.push(await done.result());
  assert.deepEqual(seen.sort(), [101, 102, 103]);
});

test('large graphs travel in several chunks', async () => {
  const leaves = Array.from({ length: 3_000 }, (_, i) => inc(i));
  let level = leaves;
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? add(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  assert.equal(await level[0]!.compute(), (3_000 * 3_001) / 2);
  const futures = client.map((x: number) => x - 1, Array.from({ length: 20_000 }, (_, i) => i));
  const values = await client.gather(futures);
  assert.equal(values[19_999], 19_998);
  for (const future of futures) future.release();
});

test('results above the inline limit are read from the workers', async () => {
  const big = client.submit((n: number) => 'x'.repeat(n), 300_000);
  assert.equal((await big.result()).length, 300_000);
  const bytes = client.submit((n: number) => new Float64Array(n).fill(1.5), 50_000);
  const values = await bytes.result();
  assert.equal(values.length, 50_000);
  assert.equal(values[49_999], 1.5);
});

test('task failures carry code, remote message and stack, and the failed key; dependents fail alike', async () => {
  const explode = delayed((x: number): number => {
    throw new RangeError(`bad input ${x}`);
  });
  const failing = explode(3);
  await assert.rejects(failing.compute(), (error: unknown) =>
    isLoomError(error, 'TASK_FAILED') && /bad input 3/.test(error.message) && error.taskKey === failing.key &&
    error.errorName === 'RangeError' && /RangeError/.test(error.remoteStack ?? ''));
  await assert.rejects(add(failing, 1).compute(), (error: unknown) => isLoomError(error, 'TASK_FAILED') && error.taskKey === failing.key);
  const future = client.submit((x: number) => {
    throw new Error(`submitted ${x}`);
  }, 1);
  await assert.rejects(future.result(), /submitted 1/);
  assert.equal(future.status, 'error');
});

test('graphs the scheduler rejects reject the caller, and the client stays usable', async () => {
  const plus = (a: number, b: number) => a + b;
  await assert.rejects(client.get({ a: task(plus, ref('missing'), 1) }, 'a'), (error: unknown) => isLoomError(error, 'UNKNOWN_DEPENDENCY'));
  await assert.rejects(client.get({ a: task(plus, ref('b'), 1), b: task(plus, ref('a'), 1) }, 'a'), (error: unknown) =>
    isLoomError(error, 'CYCLIC_GRAPH'));
  const orphan = client.submit(plus, client.submit(plus, 1, 2), 3);
  assert.equal(await orphan.result(), 6);
  assert.deepEqual(await client.get({ x: task(plus, 1, 2), y: task(plus, ref('x'), 10) }, ['y', 'x']), [13, 3]);
});

test('an argument too large for one message fails before sending, naming the task', () => {
  assert.throws(() => client.submit((text: string) => text.length, 'z'.repeat(700_000)), (error: unknown) =>
    isLoomError(error, 'MESSAGE_TOO_LARGE') && /task 'lambda-[0-9a-f]+'/.test(error.message));
});

test('released futures let the scheduler forget their keys', async () => {
  // 512 KiB results: other tests' results (the largest 400 KB), released whenever their futures are
  // garbage-collected, could make the count of keys in memory fall by three on their own, but not the bytes the
  // workers hold fall by 1.5 MiB.
  const size = 65_536;
  const bytes = 3 * size * 8;
  const held = async () => {
    const info = await client.schedulerInfo();
    return { keys: info.taskCounts['memory'] ?? 0, bytes: info.workers.reduce((sum, worker) => sum + worker.managedBytes, 0) };
  };
  const poll = async (done: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await done()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  const baseline = await held();
  const futures: Future<Float64Array>[] = [1001, 1002, 1003].map((x) => client.submit((value: number, n: number) => new Float64Array(n).fill(value), x, size));
  for await (const finished of client.asCompleted(futures)) assert.equal(finished.status, 'finished');
  let before = baseline;
  // The workers report what they hold with their heartbeats (every second, each on its own clock), so one
  // reading can count some of the three values but not all, and another test's value arriving late can make up
  // the difference: wait until the reading has grown by the three values and then held still for longer than a
  // heartbeat of every worker.
  let changedAt = Date.now();
  await poll(async () => {
    const reading = await held();
    if (reading.bytes !== before.bytes || reading.keys !== before.keys) changedAt = Date.now();
    before = reading;
    return before.bytes >= baseline.bytes + bytes && Date.now() - changedAt > 1_500;
  });
  const freed = (now: { keys: number; bytes: number }) => now.keys <= before.keys - 3 && now.bytes <= before.bytes - bytes;
  for (const future of futures) future.release();
  let now = before;
  await poll(async () => freed((now = await held())));
  assert.ok(freed(now), `before ${JSON.stringify(before)}, after ${JSON.stringify(now)}`);
});

test('schedulerInfo describes the workers; resources route tasks to the workers that have them', async () => {
  const gpu = await cluster.addWorker({ resources: { GPU: 1 } });
  const info = await client.schedulerInfo();
  assert.equal(info.workers.length, 3);
  assert.ok(info.clients >= 1);
  const described = info.workers.find((worker) => worker.name === gpu.name);
  assert.deepEqual(described?.resources, { GPU: 1 });
  assert.equal(described?.address, gpu.address);
  const where = client.submitWith({ resources: { GPU: 1 }, pure: false }, () => process.pid);
  assert.equal(await where.result(), gpu.pid);
  await cluster.killWorker(cluster.workers.findIndex((worker) => worker.name === gpu.name));
  assert.equal(cluster.workers.length, 2);
});

test('a wrong or missing token is refused promptly with UNAUTHENTICATED', async () => {
  const started = Date.now();
  await assert.rejects(Client.connect(cluster.address, { token: 'wrong' }), (error: unknown) => isLoomError(error, 'UNAUTHENTICATED'));
  await assert.rejects(Client.connect(cluster.address, { token: '' }), (error: unknown) => isLoomError(error, 'UNAUTHENTICATED'));
  assert.ok(Date.now() - started < 5_000);
});
