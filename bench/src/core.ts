// `pnpm bench:core`: scheduler throughput and latency. Loom on a LocalCluster (2 worker processes x 1 thread)
// against Dask's LocalCluster with the same shape in the same run, when Python's distributed is importable.
//   1. 20,000 `map` tasks of x => x + 1, tasks/s
//   2. a delayed binary tree reduction over 32,768 leaves (65,535 tasks), tasks/s
//   3. 500 sequential submit -> result round trips, p50/p99 ms
import { fileURLToPath } from 'node:url';
import { Client, LocalCluster, delayed, type Delayed } from '@loom/client';
import { pythonHas, runPythonReference } from './reference.js';
import { fmt, printTable } from './table.js';

const MAP_TASKS = Number(process.env['BENCH_MAP_TASKS'] ?? 20_000);
const TREE_LEAVES = Number(process.env['BENCH_TREE_LEAVES'] ?? 32_768);
const ROUND_TRIPS = Number(process.env['BENCH_ROUND_TRIPS'] ?? 500);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 3);

interface CoreResult {
  config: string;
  map_tasks_per_s: number;
  tree_tasks: number;
  tree_tasks_per_s: number;
  round_trip_p50_ms: number;
  round_trip_p99_ms: number;
}

const log = (message: string) => process.stderr.write(`[bench:core] ${message}\n`);

async function measureLoom(client: Client): Promise<CoreResult> {
  const inc = (x: number) => x + 1;
  await client.gather(client.map(inc, Array.from({ length: 500 }, (_, i) => -i - 1))); // warm up
  const items = Array.from({ length: MAP_TASKS }, (_, i) => i);

  let best: CoreResult | undefined;
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const base = (repeat + 1) * 1e7; // fresh keys every repeat: nothing is reused from the last one
    const shifted = items.map((i) => base + i);
    let start = performance.now();
    const futures = client.map(inc, shifted);
    const results = (await client.gather(futures)) as number[];
    const mapSeconds = (performance.now() - start) / 1000;
    if (results[MAP_TASKS - 1] !== base + MAP_TASKS) throw new Error('map gave a wrong answer');
    for (const future of futures) future.release();

    start = performance.now();
    const leaf = delayed((i: number, _repeat: number) => i);
    const add = delayed((a: number, b: number) => a + b);
    let level: Delayed<number>[] = Array.from({ length: TREE_LEAVES }, (_, i) => leaf(i, base));
    let tasks = TREE_LEAVES;
    while (level.length > 1) {
      const next: Delayed<number>[] = [];
      for (let i = 0; i < level.length; i += 2) next.push(add(level[i]!, level[i + 1]!));
      level = next;
      tasks += next.length;
    }
    const total = await level[0]!.compute();
    const treeSeconds = (performance.now() - start) / 1000;
    if (total !== (TREE_LEAVES * (TREE_LEAVES - 1)) / 2) throw new Error(`tree gave ${total}`);

    const latencies: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t0 = performance.now();
      const future = client.submitWith({ pure: false }, inc, i);
      if ((await future.result()) !== i + 1) throw new Error('round trip gave a wrong answer');
      latencies.push(performance.now() - t0);
      future.release();
    }
    latencies.sort((a, b) => a - b);
    const result: CoreResult = {
      config: 'loom',
      map_tasks_per_s: MAP_TASKS / mapSeconds,
      tree_tasks: tasks,
      tree_tasks_per_s: tasks / treeSeconds,
      round_trip_p50_ms: latencies[Math.floor(latencies.length / 2)]!,
      round_trip_p99_ms: latencies[Math.ceil(latencies.length * 0.99) - 1]!,
    };
    log(`loom repeat ${repeat + 1}/${REPEATS}: map ${fmt(result.map_tasks_per_s)}/s, tree ${fmt(result.tree_tasks_per_s)}/s, p50 ${fmt(result.round_trip_p50_ms, 3)} ms`);
    best = best === undefined ? result : {
      config: 'loom',
      map_tasks_per_s: Math.max(best.map_tasks_per_s, result.map_tasks_per_s),
      tree_tasks: tasks,
      tree_tasks_per_s: Math.max(best.tree_tasks_per_s, result.tree_tasks_per_s),
      round_trip_p50_ms: Math.min(best.round_trip_p50_ms, result.round_trip_p50_ms),
      round_trip_p99_ms: Math.min(best.round_trip_p99_ms, result.round_trip_p99_ms),
    };
  }
  return best!;
}

async function main(): Promise<void> {
  log(`Loom: LocalCluster 2 workers x 1 thread; ${MAP_TASKS} map tasks, ${TREE_LEAVES}-leaf tree, ${ROUND_TRIPS} round trips, best of ${REPEATS}`);
  const cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, memoryLimit: '2GiB' });
  const client = await Client.connect(cluster.address);
  let loom: CoreResult;
  try {
    loom = await measureLoom(client);
  } finally {
    await client.close();
    await cluster.close();
  }

  let dask: CoreResult[] = [];
  if (process.env['BENCH_SKIP_DASK']) log('skipping Dask (BENCH_SKIP_DASK set)');
  else if (!pythonHas('distributed')) log('Dask not importable by /usr/bin/python3 (apt-get install -y python3-distributed): Loom only');
  else {
    log('Dask: LocalCluster 2 processes x 1 thread, default and worker-saturation=inf (takes a few minutes)');
    const script = fileURLToPath(new URL('../dask_core.py', import.meta.url));
    dask = runPythonReference<CoreResult>(script, [String(MAP_TASKS), String(TREE_LEAVES), String(ROUND_TRIPS)], 15 * 60_000);
  }

  const rows = [loom, ...dask].map((r) => [
    r.config,
    fmt(r.map_tasks_per_s),
    fmt(r.tree_tasks_per_s),
    fmt(r.round_trip_p50_ms, 3),
    fmt(r.round_trip_p99_ms, 3),
  ]);
  printTable(
    `Core scheduler benchmark (2 workers x 1 thread; map ${MAP_TASKS}, tree ${loom.tree_tasks} tasks, ${ROUND_TRIPS} round trips)`,
    ['system', 'map tasks/s', 'tree tasks/s', 'round trip p50 ms', 'round trip p99 ms'],
    rows,
  );
  if (dask.length > 0) {
    const bestMap = Math.max(...dask.map((d) => d.map_tasks_per_s));
    const bestTree = Math.max(...dask.map((d) => d.tree_tasks_per_s));
    const bestP50 = Math.min(...dask.map((d) => d.round_trip_p50_ms));
    printTable('Loom vs Dask at its best (higher is better; target 10x)', ['measure', 'ratio'], [
      ['map tasks/s', `${fmt(loom.map_tasks_per_s / bestMap, 1)}x`],
      ['tree tasks/s', `${fmt(loom.tree_tasks_per_s / bestTree, 1)}x`],
      ['round trip p50 (Dask / Loom)', `${fmt(bestP50 / loom.round_trip_p50_ms, 1)}x`],
    ]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
