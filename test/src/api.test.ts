// The client API from the README, end to end on a real 2-worker cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, delayed } from '@loom/client';
import { isLoomError } from '@loom/protocol';
import { eventually, useCluster } from './cluster-fixture.js';

const fixture = useCluster();

const inc = delayed((x: number) => x + 1);
const add = delayed((a: number, b: number) => a + b);

test('delayed values compute, sharing sub-results within one graph', async () => {
  const total = add(inc(1), inc(2));
  assert.equal(await total.compute(), 5);
  assert.deepEqual(await compute(total, inc(10)), [5, 11]);
  assert.equal(inc(1).key, inc(1).key, 'deterministic keys');
});

/**
 * Bytes of results held across the cluster. Tests that check memory is freed hold values of tens of KiB and watch
 * for that many bytes to go: other tests' small results, released whenever their futures are collected, can
 * neither fake nor hide it (a count of keys could be).
 */
async function managedBytes(): Promise<number> {
  const info = await fixture.client.schedulerInfo();
  return info.workers.reduce((sum, w) => sum + w.managedBytes, 0);
}

/**
 * Waits until the cluster holds at least (`above` true) or at most `level` bytes of results; returns what it holds.
 * Callers pass a level half their payload away from where they started, not the exact sum: results of earlier
 * tests (a few bytes each) may still be on their way out when `before` is read, and an exact level would then
 * never be reached.
 */
function managedReaches(what: string, level: number, above: boolean): Promise<number> {
  return eventually(what, async () => {
    const now = await managedBytes();
    return (above ? now >= level : now <= level) ? now : undefined;
  });
}

const filled = delayed((n: number, value: number) => new Float64Array(n).fill(value));
const total = delayed((values: Float64Array) => values.reduce((a, b) => a + b, 0));

test('persist keeps data on workers until released', async () => {
  const bytes = 4096 * 8;
  const before = await managedBytes();
  const kept = await filled(4096, 3).persist();
  const held = await managedReaches('the persisted value held by a worker', before + bytes / 2, true);
  assert.equal((await kept.compute()).length, 4096);
  assert.equal(await total(kept).compute(), 3 * 4096, 'a persisted value feeds new graphs');
  kept.release();
  await managedReaches('persisted data released', held - bytes / 2, false);
});

test('submit, map, gather and asCompleted', async () => {
  const { client } = fixture;
  const doubled = client.submit((x: number) => x * 2, 21);
  assert.equal(await doubled.result(), 42);
  assert.deepEqual(await client.gather(client.map((x: number) => x * x, [1, 2, 3])), [1, 4, 9]);
  // The order they finish in is fixed by dependencies (each needs the one before), not by how long they sleep.
  const first = client.submit((x: number) => x + 1, 1);
  const second = client.submit((x: number) => x * 10, first);
  const third = client.submit((x: number) => x - 1, second);
  const order: unknown[] = [];
  for await (const done of client.asCompleted([third, second, first])) order.push(await done.result());
  assert.deepEqual(order, [2, 20, 19], 'in the order they finished, not the order given');
});

test('arguments nest delayed values and futures inside arrays and objects', async () => {
  const { client } = fixture;
  const future = client.submit((x: number) => x * 10, 4);
  const combine = delayed((spec: { items: number[]; extra: { value: number } }) => spec.items.reduce((a, b) => a + b, 0) + spec.extra.value);
  assert.equal(await combine({ items: [inc(1), 2, inc(3)], extra: { value: future } }).compute(), 2 + 2 + 4 + 40);
});

test('typed arrays, maps and big integers travel intact', async () => {
  const makeData = delayed((n: number) => ({ floats: new Float64Array([n, n / 2]), tags: new Map([['n', n]]), big: 2n ** 70n }));
  const result = (await makeData(3).compute()) as { floats: Float64Array; tags: Map<string, number>; big: bigint };
  assert.deepEqual([...result.floats], [3, 1.5]);
  assert.equal(result.tags.get('n'), 3);
  assert.equal(result.big, 2n ** 70n);
});

test('a task that throws reaches the caller with the remote message, stack and key; dependents err; other work carries on', async () => {
  const explode = delayed(function explode(x: number): number {
    if (x > 0) throw new RangeError(`bad input ${x}`);
    return x;
  });
  const failing = explode(7);
  const dependent = inc(failing);
  await assert.rejects(dependent.compute(), (error: unknown) => {
    assert.ok(isLoomError(error, 'TASK_FAILED'));
    assert.match(error.message, /bad input 7/);
    assert.equal(error.taskKey, failing.key);
    assert.equal(error.errorName, 'RangeError');
    assert.match(error.remoteStack ?? '', /explode/);
    assert.equal(error.remoteCode, undefined, 'a RangeError has no code of its own');
    return true;
  });
  assert.equal(await inc(41).compute(), 42, 'the cluster keeps serving');
});

test('the code of an error a task throws reaches the caller and its dependents as remoteCode', async () => {
  const sizeOfMissing = delayed(function sizeOfMissing(path: string): number {
    const fs = process.getBuiltinModule('node:fs');
    return fs.statSync(path).size;
  });
  const failing = sizeOfMissing('/nonexistent/loom-remote-code-test');
  for (const value of [failing, inc(failing)]) {
    await assert.rejects(value.compute(), (error: unknown) => {
      assert.ok(isLoomError(error, 'TASK_FAILED'));
      assert.equal(error.remoteCode, 'ENOENT', 'Node\'s errno name, to branch on without parsing the message');
      assert.equal(error.taskKey, failing.key);
      return true;
    });
  }
});

test('a function that uses a variable it does not receive fails clearly, naming the variable', () => {
  const offset = 5;
  assert.throws(
    () => delayed((x: number) => x + offset),
    (error: unknown) => isLoomError(error, 'FREE_VARIABLE') && /offset/.test(error.message) && /argument/.test(error.message),
  );
});

test('functions given by module reference run on the workers', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { pathToFileURL } = await import('node:url');
  const dir = mkdtempSync(join(tmpdir(), 'loom-module-'));
  const file = join(dir, 'ops.mjs');
  writeFileSync(file, 'const secret = 1000;\nexport function addSecret(x) { return x + secret; }\n');
  const addSecret = delayed({ module: pathToFileURL(file).href, export: 'addSecret' });
  assert.equal(await addSecret(inc(1)).compute(), 1002);
});

test('retries: a task that fails twice and then succeeds returns its value', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const counterFile = join(mkdtempSync(join(tmpdir(), 'loom-retry-')), 'attempts');
  const flaky = delayed(
    async (path: string) => {
      const fs = await import('node:fs');
      const attempts = fs.existsSync(path) ? Number(fs.readFileSync(path, 'utf8')) + 1 : 1;
      fs.writeFileSync(path, String(attempts));
      if (attempts < 3) throw new Error(`attempt ${attempts} fails`);
      return attempts;
    },
    { retries: 2, pure: false },
  );
  assert.equal(await flaky(counterFile).compute(), 3);
  const noRetries = delayed(async () => {
    throw new Error('always');
  }, { pure: false });
  await assert.rejects(noRetries().compute(), /always/);
});

test('releasing futures frees worker memory', async () => {
  const { client } = fixture;
  const bytes = 4 * 8000;
  const before = await managedBytes();
  const futures = client.map((x: number) => new Float64Array(1000).fill(x), [1, 2, 3, 4]);
  await client.gather(futures);
  const held = await managedReaches('results held', before + bytes / 2, true);
  for (const future of futures) future.release();
  await managedReaches('memory freed', held - bytes / 2, false);
});

test('schedulerInfo reports every worker with its memory figures', async () => {
  const info = await fixture.client.schedulerInfo();
  assert.equal(info.workers.length, 2);
  for (const worker of info.workers) {
    assert.equal(worker.nthreads, 1);
    assert.equal(worker.memoryLimit, 2 ** 30);
    assert.match(worker.address, /^127\.0\.0\.1:\d+$/);
    assert.ok(worker.rssBytes > 0);
  }
});
