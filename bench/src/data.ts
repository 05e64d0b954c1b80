// `pnpm bench:data`: moving and holding data. Loom on a LocalCluster (2 workers x 1 thread) and, when Python's
// distributed is importable, Dask on the same files in the same run:
//   1. the loopback ceiling: a plain TCP socket between two processes, MB/s, and the HTTP/2 ceiling: node:http2
//      (what gRPC runs on in Node) moving 64 MiB values into fresh memory (http2-ceiling.ts);
//   2. a 64 MiB partition moved worker to worker (end to end: a task on worker B reading worker A's value),
//      and worker to client;
//   3. spill write and read-back MB/s of the worker's spill store;
//   4. the out-of-core run: CSV files 3x the cluster's memory, filtered, persisted, counted and summed: wall
//      time, bytes spilled and each worker's peak RSS.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, LocalCluster, compute, dataframe as dd, delayed } from '@loom/client';
import { parseBytes } from '@loom/protocol';
import { processMemory } from '@loom/worker';
import { writeCsvDataset } from '../../scripts/datasets.mjs';
import { http2Ceiling } from './http2-ceiling.js';
import { measureSpill } from './spill-throughput.js';
import { pythonHas, runPythonReference } from './reference.js';
import { fmt, printTable } from './table.js';

const log = (message: string) => process.stderr.write(`[bench:data] ${message}\n`);
const MiB = 2 ** 20;
const OUT_OF_CORE_LIMIT = process.env['BENCH_MEMORY_LIMIT'] ?? '512MiB';

/** Child side of the loopback test: connect and write `bytes` as fast as the socket takes them. */
if (process.argv[2] === '--loopback-sender') {
  const [port, bytes] = [Number(process.argv[3]), Number(process.argv[4])];
  const socket = connect(port, '127.0.0.1', () => {
    const chunk = Buffer.alloc(4 * MiB, 1);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    pump();
  });
  socket.on('close', () => process.exit(0));
}

async function loopbackCeiling(bytes = 512 * MiB): Promise<number> {
  let best = 0;
  for (let repeat = 0; repeat < 3; repeat++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const done = new Promise<number>((resolve) => {
      server.once('connection', (socket) => {
        const started = performance.now();
        let received = 0;
        socket.on('data', (chunk: Buffer) => (received += chunk.length));
        socket.on('end', () => resolve(received / 1e6 / ((performance.now() - started) / 1000)));
      });
    });
    const child = fork(fileURLToPath(import.meta.url), ['--loopback-sender', String(port), String(bytes)]);
    best = Math.max(best, await done);
    child.kill();
    server.close();
  }
  return best;
}

async function transfer(): Promise<{ workerToWorker: number; workerToClient: number }> {
  const cluster = await LocalCluster.start({ workers: 1, threadsPerWorker: 1, memoryLimit: '2GiB', resources: { A: 1 } });
  await cluster.addWorker({ resources: { B: 1 } });
  const client = await Client.connect(cluster.address);
  let workerToWorker = 0;
  let workerToClient = 0;
  try {
    const make = delayed((mib: number, salt: number) => new Float64Array((mib * 2 ** 20) / 8).fill(salt), { resources: { A: 1 } });
    const consume = delayed((values: Float64Array) => values.length, { resources: { B: 1 } });
    // Waits until the value is in memory on A without fetching it anywhere (the client would keep a copy).
    const touchOnA = delayed((values: Float64Array, _repeat: number) => values.length, { resources: { A: 1 } });
    for (let repeat = 0; repeat < 4; repeat++) {
      const value = await make(64, repeat).persist();
      await touchOnA(value, repeat).compute();
      let started = performance.now();
      await consume(value).compute();
      workerToWorker = Math.max(workerToWorker, (64 * MiB) / 1e6 / ((performance.now() - started) / 1000));
      started = performance.now();
      await value.compute();
      workerToClient = Math.max(workerToClient, (64 * MiB) / 1e6 / ((performance.now() - started) / 1000));
      value.release();
    }
  } finally {
    await client.close();
    await cluster.close();
  }
  return { workerToWorker, workerToClient };
}

interface OutOfCoreResult {
  seconds: number;
  rows: number;
  sum: number;
  spilledBytes: number;
  peakRss: number[];
}

async function outOfCore(pattern: string, memoryLimit: string): Promise<OutOfCoreResult> {
  const cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, memoryLimit });
  const client = await Client.connect(cluster.address);
  try {
    const started = performance.now();
    const kept = await dd
      .readCsv(pattern, { blocksize: '2MiB' })
      .filter((row: { value: number }) => row.value >= 500)
      .persist();
    const rows = (await kept.count().compute()) as number;
    const partitionSum = delayed((table: dd.arrow.Table) => {
      let sum = 0;
      for (const value of table.getChild('value')!) sum += Number(value);
      return sum;
    });
    const sums = (await compute(...kept.partitions.map((partition) => partitionSum(partition)))) as number[];
    const seconds = (performance.now() - started) / 1000;
    const info = await client.schedulerInfo();
    kept.release();
    return {
      seconds,
      rows,
      sum: sums.reduce((a, b) => a + b, 0),
      spilledBytes: info.workers.reduce((total, w) => total + w.spilledBytes, 0),
      peakRss: cluster.workers.map((w) => processMemory(w.pid, 'VmHWM') ?? Number.NaN),
    };
  } finally {
    await client.close();
    await cluster.close();
  }
}

interface DaskTransfer {
  measure: 'transfer_64MiB';
  end_to_end_MBps: number;
  receiver_MBps: number;
}
interface DaskOutOfCore {
  measure: 'out_of_core';
  seconds: number;
  rows: number;
  sum: number;
  spilled_bytes: number;
  peak_rss_bytes: number[];
}

async function main(): Promise<void> {
  const limit = parseBytes(OUT_OF_CORE_LIMIT);
  const dir = mkdtempSync(join(tmpdir(), 'loom-bench-data-'));
  try {
    log('loopback ceiling: plain TCP socket between two processes');
    const ceiling = await loopbackCeiling();
    log('HTTP/2 ceiling: node:http2 between two processes, 64 MiB into fresh memory');
    const http2 = await http2Ceiling();
    log('64 MiB transfers');
    const moved = await transfer();
    log('spill store write/read');
    const spill = await measureSpill(join(dir, 'spill'));
    log(`writing CSV files 3x the cluster memory (2 workers x ${OUT_OF_CORE_LIMIT})`);
    const data = writeCsvDataset(join(dir, 'csv'), { totalBytes: 3 * 2 * limit, files: 16, threshold: 500 });
    log(`out-of-core run over ${(data.bytes / 1e9).toFixed(2)} GB`);
    const loom = await outOfCore(join(dir, 'csv', '*.csv'), OUT_OF_CORE_LIMIT);
    if (loom.rows !== data.matchingRows || loom.sum !== data.matchingSum) throw new Error('Loom gave a wrong answer');

    let daskTransfer: DaskTransfer | undefined;
    let daskOutOfCore: DaskOutOfCore | undefined;
    if (process.env['BENCH_SKIP_DASK']) log('skipping Dask (BENCH_SKIP_DASK set)');
    else if (!pythonHas('distributed')) log('Dask not importable by /usr/bin/python3 (apt-get install -y python3-distributed): Loom only');
    else {
      log('Dask: the same transfer and out-of-core run');
      const script = fileURLToPath(new URL('../dask_data.py', import.meta.url));
      const results = runPythonReference<DaskTransfer | DaskOutOfCore>(
        script,
        [join(dir, 'csv', '*.csv'), String(limit), '2MiB', String(data.threshold)],
        20 * 60_000,
      );
      daskTransfer = results.find((r): r is DaskTransfer => r.measure === 'transfer_64MiB');
      daskOutOfCore = results.find((r): r is DaskOutOfCore => r.measure === 'out_of_core');
    }

    const ratio = (ours: number, theirs: number | undefined) => (theirs ? `${fmt(ours / theirs, 2)}x` : 'n/a');
    printTable('Data movement (MB/s, higher is better)', ['measure', 'Loom', 'Dask', 'Loom / Dask'], [
      ['loopback ceiling (plain TCP socket)', fmt(ceiling), '', ''],
      ['HTTP/2 ceiling (node:http2, 64 MiB into fresh memory)', fmt(http2), '', ''],
      ['64 MiB worker -> worker, end to end', fmt(moved.workerToWorker), fmt(daskTransfer?.end_to_end_MBps), ratio(moved.workerToWorker, daskTransfer?.end_to_end_MBps)],
      ['64 MiB as timed by the receiving worker', '', fmt(daskTransfer?.receiver_MBps), ''],
      ['64 MiB worker -> client', fmt(moved.workerToClient), '', ''],
      ['spill write', fmt(spill.writeMBps), '', ''],
      ['spill read-back', fmt(spill.readMBps), '', ''],
    ]);
    const mib = (bytes: number) => fmt(bytes / MiB);
    printTable(`Out-of-core: ${(data.bytes / 1e9).toFixed(2)} GB of CSV through 2 workers x ${OUT_OF_CORE_LIMIT}`, ['system', 'wall s', 'spilled MiB', 'peak RSS MiB per worker'], [
      ['Loom', fmt(loom.seconds, 1), mib(loom.spilledBytes), loom.peakRss.map(mib).join(' / ')],
      ...(daskOutOfCore
        ? [['Dask', fmt(daskOutOfCore.seconds, 1), mib(daskOutOfCore.spilled_bytes), daskOutOfCore.peak_rss_bytes.map(mib).join(' / ')]]
        : []),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] !== '--loopback-sender') {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
