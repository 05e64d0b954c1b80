// What workers move besides running tasks, seen from the scheduler's dashboard on a real cluster: results
// spilled past a low memory target and read back, inputs fetched from the other worker, each worker's own
// memory thresholds, and a transfer held up by a frozen peer while it is in flight. Checked in /metrics (read with
// a Prometheus text parser) and in the task stream's events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delayed, type LocalWorker } from '@loom/client';
import { parsePrometheusText } from '@loom/testing';
import { eventually, useCluster } from './cluster-fixture.js';
import { block as localBlock, checksum as localChecksum } from './fixtures/memory-ops.js';

const OPS = new URL('./fixtures/memory-ops.js', import.meta.url).href;
// Each worker declares its own resource and half the blocks ask for it, so both workers hold (and spill) blocks
// however fast either one finishes its share.
const blockOn = (side: 'left' | 'right') =>
  delayed<(seed: number, kib: number) => Uint8Array>({ module: OPS, export: 'block' }, { resources: { [side]: 1 } });
const blockLeft = blockOn('left');
const blockRight = blockOn('right');
const checksum = delayed<(blocks: Uint8Array[], extra?: number) => number>({ module: OPS, export: 'checksum' });
const checksumOnRight = delayed<(blocks: Uint8Array[], extra?: number) => number>({ module: OPS, export: 'checksum' }, { resources: { right: 1 } });

// 400 MiB per worker, spilling above 2 % managed (8 MiB): 8 blocks of 3 MiB on each worker spill.
// A frozen worker is kept for 30 s (not 5): the frozen-peer test must not lose it while a busy machine is slow.
const fixture = useCluster({
  workers: 0,
  memoryLimit: '400MiB',
  workerArgs: ['--memory-target', '0.02', '--memory-pause', 'false'],
  schedulerArgs: ['--heartbeat-timeout', '30000'],
  dashboard: { port: 0 },
});

const BLOCK_KIB = 3 * 1024;

/** The two workers, added once for the file: `left` and `right` each declare a resource of their name. */
let added: Promise<{ left: LocalWorker; right: LocalWorker }> | undefined;
const sides = () =>
  (added ??= (async () => ({ left: await fixture.cluster.addWorker({ resources: { left: 1 } }), right: await fixture.cluster.addWorker({ resources: { right: 1 } }) }))());

const url = (path: string) => new URL(path, fixture.cluster.dashboardUrl).toString();

async function scrape(): Promise<(name: string, labels: Record<string, string>) => number | undefined> {
  const families = parsePrometheusText(await (await fetch(url('/metrics'))).text());
  return (name, labels) => {
    const family = families.find((candidate) => candidate.name === name);
    const sample = family?.metrics.find((s) => Object.entries(labels).every(([key, value]) => s.labels?.[key] === value));
    return sample?.value === undefined ? undefined : Number(sample.value);
  };
}

test('spill writes and reads, transfers in and out, and each worker\'s thresholds reach /metrics and the task stream', async () => {
  const { client } = fixture;
  await sides();
  const seeds = Array.from({ length: 16 }, (_, i) => i);
  const blocks = await Promise.all(seeds.map((seed) => (seed % 2 === 0 ? blockLeft : blockRight)(seed, BLOCK_KIB).persist()));
  const info = await eventually('spilled results', async () => {
    const now = await client.schedulerInfo();
    return now.workers.every((worker) => worker.spilledBytes > 0) ? now : undefined;
  });
  // One task needs every block: the half on the other worker travels, and spilled blocks are read back.
  assert.equal(await checksum(blocks).compute(), localChecksum(seeds.map((seed) => localBlock(seed, BLOCK_KIB))));

  const names = info.workers.map((worker) => worker.name);
  // Each worker's totals come with its own heartbeat: wait until both have reported since the checksum.
  const total = (read: Awaited<ReturnType<typeof scrape>>, metric: string) => names.reduce((sum, name) => sum + (read(metric, { worker: name }) ?? 0), 0);
  const value = await eventually('both workers\' heartbeats after the checksum', async () => {
    const read = await scrape();
    const arrived = total(read, 'loom_worker_transfer_incoming_bytes_total');
    return arrived >= 4 * BLOCK_KIB * 1024 && total(read, 'loom_worker_transfer_outgoing_bytes_total') >= arrived ? read : undefined;
  });
  let incoming = 0;
  let outgoing = 0;
  for (const name of names) {
    assert.ok((value('loom_worker_spill_bytes_total', { worker: name, activity: 'disk_write' }) ?? 0) >= BLOCK_KIB * 1024, `${name} wrote spill files`);
    assert.equal(value('loom_worker_memory_threshold_ratio', { worker: name, threshold: 'target' }), 0.02, 'the worker\'s own target, not the default');
    assert.equal(value('loom_worker_memory_threshold_ratio', { worker: name, threshold: 'pause' }), 0, 'pausing turned off shows as 0');
    incoming += value('loom_worker_transfer_incoming_bytes_total', { worker: name }) ?? 0;
    outgoing += value('loom_worker_transfer_outgoing_bytes_total', { worker: name }) ?? 0;
  }
  const read = names.reduce((sum, name) => sum + (value('loom_worker_spill_bytes_total', { worker: name, activity: 'disk_read' }) ?? 0), 0);
  assert.ok(read >= BLOCK_KIB * 1024, `spilled blocks were read back (${read} bytes)`);
  // Nothing was fetched by the client (the checksum came back inline), so what one worker sent the other received.
  assert.equal(incoming, outgoing);

  const events = (await (await fetch(url('/api/v1/tasks?after=0&limit=8192'))).json()) as Array<{ worker: string; kind: string; startMs: number; stopMs: number }>;
  const transfers = events.filter((event) => event.kind === 'transfer');
  assert.ok(transfers.length >= 1, 'the fetch is in the task stream');
  assert.ok(events.some((event) => event.kind === 'spill-write') && events.some((event) => event.kind === 'spill-read'), 'spill I/O is in the task stream');
  for (const event of transfers) assert.ok(event.stopMs >= event.startMs && names.includes(event.worker));
});

test('a fetch from a frozen peer shows as bytes and a call in flight, and both go back to 0 when it completes', async () => {
  const { left, right } = await sides();
  const input = await blockLeft(101, BLOCK_KIB).persist();
  // persist() returns once the graph is sent: the block must be in the left worker's memory before it freezes.
  await eventually('the block computed', async () => ((await fixture.client.schedulerInfo()).taskCounts['processing'] ?? 0) === 0 ? true : undefined);
  const worker = (await fixture.client.schedulerInfo()).workers.find((candidate) => candidate.address === right.address)!.name;
  process.kill(left.pid, 'SIGSTOP');
  let sum: Promise<number> | undefined;
  try {
    sum = checksumOnRight([input]).compute();
    sum.catch(() => undefined); // awaited below; this only keeps a failure above from leaving it unhandled
    const stuck = await eventually('the fetch in flight on the right worker', async () => {
      const read = await scrape();
      return (read('loom_worker_transfer_incoming_count', { worker }) ?? 0) === 1 ? read : undefined;
    });
    const inFlight = stuck('loom_worker_transfer_incoming_bytes', { worker }) ?? 0;
    // The size the scheduler knows for the input: the block's bytes and its encoding's few bytes of header.
    assert.ok(inFlight >= BLOCK_KIB * 1024 && inFlight <= BLOCK_KIB * 1024 + 64, `${inFlight} bytes in flight`);
  } finally {
    process.kill(left.pid, 'SIGCONT');
  }
  assert.equal(await sum, localChecksum([localBlock(101, BLOCK_KIB)]));
  await eventually('nothing in flight after the fetch', async () => {
    const read = await scrape();
    return read('loom_worker_transfer_incoming_count', { worker }) === 0 && read('loom_worker_transfer_incoming_bytes', { worker }) === 0 ? true : undefined;
  });
});
