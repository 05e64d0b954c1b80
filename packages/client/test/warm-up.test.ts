// The client's warm-up, and a cluster whose every process warms up: the warm-up runs once per process against
// an in-process stand-in for the scheduler without becoming the current client, and warmed-up processes give
// the same answers as any others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, LocalCluster, compute, delayed, isLoomError } from '../src/index.js';

test('the client warm-up runs once per process, gets its results back, and leaves no current client', async () => {
  process.env['LOOM_WARMUP'] = '0';
  assert.equal(await Client.warmUp(), 0, 'LOOM_WARMUP=0 turns it off');
  process.env['LOOM_WARMUP'] = '1';
  const first = Client.warmUp();
  assert.equal(Client.warmUp(), first, 'a second call shares the first');
  assert.equal(await first, 2_000);
  await assert.rejects(compute(delayed((x: number) => x)(1)), (error) => isLoomError(error) && error.code === 'UNKNOWN_CLIENT');
});

test('a cluster whose scheduler, workers, task threads and client all warmed up computes right answers', async () => {
  const cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 2, memoryLimit: '1GiB', env: { LOOM_WARMUP: '1' } });
  const client = await Client.connect(cluster.address);
  try {
    const items = Array.from({ length: 3_000 }, (_, i) => i);
    assert.deepEqual(await client.gather(client.map((x: number) => x * 3, items, { pure: false })), items.map((x) => x * 3));
    const leaf = delayed((v: number) => v);
    const add = delayed((a: number, b: number) => a + b);
    let level = items.slice(0, 256).map((x) => leaf(x));
    while (level.length > 1) level = Array.from({ length: level.length / 2 }, (_, i) => add(level[2 * i]!, level[2 * i + 1]!));
    assert.equal(await level[0]!.compute(client), (255 * 256) / 2);
  } finally {
    await client.close();
    await cluster.close();
  }
});
