// How LocalCluster starts a worker without a nanny: with the same allocator settings and V8 flags a nanny gives
// its worker (@loom/worker's malloc-env.ts and v8-flags.ts), and LOOM_WORKER_V8_FLAGS from the cluster's
// environment replacing the flags. The nanny's side is checked in test/src/memory.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client, LocalCluster } from '../src/index.js';

const commandLine = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
const environment = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
const scriptIndex = (parts: string[]): number => parts.findIndex((part) => part.endsWith('main.js'));

test('a worker without a nanny starts with single-threaded GC and the allocator settings', async () => {
  const cluster = await LocalCluster.start({ workers: 1, nanny: false });
  try {
    const [worker] = cluster.workers;
    assert.ok(worker !== undefined && worker.nannyPid === undefined);
    const parts = commandLine(worker.pid);
    assert.ok(parts.indexOf('--single-threaded-gc') >= 0 && parts.indexOf('--single-threaded-gc') < scriptIndex(parts), parts.join(' '));
    assert.ok(environment(worker.pid).includes('MALLOC_MMAP_THRESHOLD_=131072'));
  } finally {
    await cluster.close();
  }
});

test('LOOM_WORKER_V8_FLAGS replaces the flags, with and without a nanny, and the worker still runs tasks', async () => {
  for (const nanny of [true, false]) {
    const cluster = await LocalCluster.start({ workers: 1, nanny, env: { LOOM_WORKER_V8_FLAGS: '--max-semi-space-size=8 --no-concurrent-marking' } });
    const client = await Client.connect(cluster.address);
    try {
      const [worker] = cluster.workers;
      assert.ok(worker !== undefined);
      const parts = commandLine(worker.pid);
      const script = scriptIndex(parts);
      assert.deepEqual(parts.slice(1, script), ['--max-semi-space-size=8', '--no-concurrent-marking'], `nanny ${nanny}: ${parts.join(' ')}`);
      assert.equal(await client.submit((x: number) => x * 2, 21).result(), 42);
    } finally {
      await client.close();
      await cluster.close();
    }
  }
});
