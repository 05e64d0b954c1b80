// Memory on a whole cluster: results spilled past the managed-memory target show in schedulerInfo, a worker
// holding spilled data killed with SIGKILL leaves the answer exact, and a worker whose task runs past the
// terminate threshold is killed and restarted by its nanny while the scheduler recomputes what it held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delayed } from '@loom/client';
import { eventually, useCluster } from './cluster-fixture.js';
import { block as localBlock, checksum as localChecksum } from './fixtures/memory-ops.js';

const OPS = new URL('./fixtures/memory-ops.js', import.meta.url).href;
const block = delayed<(seed: number, kib: number) => Uint8Array>({ module: OPS, export: 'block' });
const checksum = delayed<(blocks: Uint8Array[], extra?: number) => number>({ module: OPS, export: 'checksum' });
const hogOnce = delayed<(marker: string, mib: number, value: number) => number>({ module: OPS, export: 'hogOnce' }, { pure: false });

// 400 MiB per worker: spill above 5 % managed (20 MiB), terminate at 95 % (380 MiB) of RSS.
const fixture = useCluster({ workers: 2, memoryLimit: '400MiB', workerArgs: ['--memory-target', '0.05'] });

const BLOCK_KIB = 3 * 1024;

function expected(seeds: number[], extra = 0): number {
  return localChecksum(seeds.map((seed) => localBlock(seed, BLOCK_KIB)), extra);
}

test('results past the managed-memory target are spilled; schedulerInfo shows it; SIGKILL of the holder keeps the answer exact', async () => {
  const { cluster, client } = fixture;
  const seeds = Array.from({ length: 16 }, (_, i) => i);
  const blocks = await Promise.all(seeds.map((seed) => block(seed, BLOCK_KIB).persist()));
  const spiller = await eventually('spilled bytes in schedulerInfo', async () => {
    const info = await client.schedulerInfo();
    return info.workers.find((worker) => worker.spilledBytes > 0);
  });
  assert.ok(spiller.managedBytes <= 0.05 * 400 * 2 ** 20 + BLOCK_KIB * 1024, `managed ${spiller.managedBytes} stays near the target`);
  const index = cluster.workers.findIndex((worker) => worker.address === spiller.address);
  assert.ok(index >= 0);
  await cluster.killWorker(index, 'SIGKILL');
  assert.equal(await checksum(blocks).compute(), expected(seeds));
  await cluster.addWorker();
  for (const kept of blocks) kept.release();
});

test('a task running past the terminate threshold: the nanny kills and restarts its worker, the answer is exact', async () => {
  const { cluster, client } = fixture;
  await eventually('two workers', async () => ((await client.schedulerInfo()).workers.length === 2 ? true : undefined));
  const before = new Map(cluster.workers.map((worker) => [worker.name, worker.pid]));
  const marker = join(mkdtempSync(join(tmpdir(), 'loom-hog-')), 'ran');
  const seeds = [100, 101, 102, 103];
  const total = checksum(seeds.map((seed) => block(seed, BLOCK_KIB)), hogOnce(marker, 600, 7));
  assert.equal(await total.compute(), expected(seeds, 7));
  const restarted = await eventually('a worker restarted under its old name', () =>
    cluster.workers.find((worker) => before.has(worker.name) && before.get(worker.name) !== worker.pid));
  assert.ok(restarted.nannyPid !== undefined);
  await eventually('both workers back', async () => ((await client.schedulerInfo()).workers.length === 2 ? true : undefined));
});

test('the nanny starts its worker with a fixed malloc mmap threshold, huge pages for large buffers and single-threaded GC', () => {
  for (const worker of fixture.cluster.workers) {
    const commandLine = readFileSync(`/proc/${worker.pid}/cmdline`, 'latin1').split('\0');
    assert.ok(commandLine.includes('--single-threaded-gc'), `worker ${worker.name} runs with single-threaded GC: ${commandLine.join(' ')}`);
    assert.ok(commandLine.indexOf('--single-threaded-gc') < commandLine.findIndex((part) => part.endsWith('main.js')), 'as a flag of node, before the script');
    const environment = readFileSync(`/proc/${worker.pid}/environ`, 'latin1').split('\0');
    assert.ok(environment.includes('MALLOC_MMAP_THRESHOLD_=131072'), `worker ${worker.name}'s environment sets the threshold`);
    assert.ok(environment.includes('GLIBC_TUNABLES=glibc.malloc.hugetlb=1'), `worker ${worker.name}'s environment asks for huge pages`);
  }
});
