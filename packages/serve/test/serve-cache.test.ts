// The group cache: versions load on first use, stay while they fit the memory budget, and the least recently
// used goes first; a version that alone exceeds the budget is refused with 503 naming it, and the server
// goes on serving the others. A current version that cannot be loaded leaves the one before it serving.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCache } from '../src/group-cache.js';
import { estimateBytes, type LoadedGroup } from '../src/loaded-group.js';
import { inferBody, post, publishGroup, quietLogger, startServer, storeWith } from './serve-fixtures.js';

const store = await storeWith({ a: 1_000, b: 1_000, c: 1_000, d: 100 });
const oneGroup = estimateBytes(await store.manifest('a'));

test('least recently used versions are evicted to keep within the budget', async () => {
  const loads: string[] = [];
  const cache = new GroupCache(store, { maxMemory: Math.floor(oneGroup * 2.5), logger: quietLogger, onLoad: (loaded: LoadedGroup) => loads.push(loaded.name) });
  for (const group of ['a', 'b', 'c']) await cache.current(group);
  assert.deepEqual(loads, ['a', 'b', 'c']);
  assert.deepEqual(cache.stats, { groups: 2, models: 2_000, bytes: 2 * oneGroup });
  await cache.current('b'); // b becomes the most recent: c is next out
  await cache.current('a'); // a was evicted: loads again, evicting c
  await cache.current('b');
  assert.deepEqual(loads, ['a', 'b', 'c', 'a']);
  await cache.current('c');
  assert.deepEqual(loads, ['a', 'b', 'c', 'a', 'c']);
  assert.equal(cache.stats.groups, 2);
});

test('concurrent first requests for one version share one load', async () => {
  const loads: string[] = [];
  const cache = new GroupCache(store, { maxMemory: oneGroup * 10, logger: quietLogger, onLoad: (loaded: LoadedGroup) => loads.push(loaded.name) });
  const all = await Promise.all(Array.from({ length: 8 }, () => cache.current('a')));
  assert.deepEqual(loads, ['a']);
  assert.ok(all.every((loaded) => loaded === all[0]));
});

test('a version over the whole budget is a 503 naming it; the rest keep serving', async () => {
  await publishGroup(store, 'big', 20_000);
  const server = await startServer(store, { maxMemory: oneGroup * 3 });
  const big = await post(`${server.url}/v2/models/big/infer`, inferBody(['m1'], [1, 2, 3]));
  assert.equal(big.status, 503);
  assert.match(String(big.body['error']), /^group big version 1 needs about \d+ bytes, more than the server's memory budget of \d+ bytes/);
  assert.equal((await post(`${server.url}/v2/models/a/infer`, inferBody(['m1'], [1, 2, 3]))).status, 200);
});

test('a damaged new version leaves the previous one serving, and is tried again after the pause', async () => {
  const errors: unknown[] = [];
  const logger = { ...quietLogger, error: (fields: unknown) => errors.push(fields) } as typeof quietLogger;
  const cache = new GroupCache(store, { maxMemory: oneGroup * 10, logger, recheckMs: 0, retryMs: 50 });
  assert.equal((await cache.current('d')).version, 1);
  await publishGroup(store, 'd', 100, 2);
  const part = join(store.dir, 'groups', 'd', 'versions', '000002', 'part-00000.arrow');
  const good = readFileSync(part);
  const damaged = Buffer.from(good);
  const middle = damaged.length >> 1;
  damaged[middle] = (damaged[middle] as number) ^ 0xff;
  writeFileSync(part, damaged);
  assert.equal((await cache.current('d')).version, 1, 'the damaged version 2 is not served');
  assert.equal(errors.length, 1, 'the failed load is logged once');
  assert.match((errors[0] as { err: Error }).err.message, /part-00000\.arrow/);
  assert.equal((await cache.current('d')).version, 1, 'within the pause, version 1 serves without another load');
  assert.equal(errors.length, 1);
  writeFileSync(part, good);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal((await cache.current('d')).version, 2, 'after the pause, the repaired version 2 loads');
  cache.close();
});
