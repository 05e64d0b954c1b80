// `npm run bench:core`: scheduler throughput and latency. Loom on a LocalCluster (2 worker processes x 1 thread)
// against Dask's LocalCluster with the same shape in the same run, when Python's distributed is importable.
// Every system runs every workload the same number of times (BENCH_REPEATS) at the same sizes, with fresh keys
// every repeat (`pure: false` on both sides), and the tables show each workload's first run and its best run.
//   cold  the first graph on a fresh cluster: 5,000 `map` tasks of x => x + 1, timed from submit to the last
//         result (a new cluster per repeat; cluster start-up is reported beside it, not inside it)
//   warm  on one cluster, after a 500-task warm-up graph:
//         1. 20,000 `map` tasks of x => x + 1, tasks/s
//         2. a delayed binary tree reduction over 4,096 leaves (8,191 tasks), tasks/s
//         3. 500 sequential submit -> result round trips, p50/p99 ms
//   dashboard load: on one cluster, the warm map and tree with no dashboard viewer and with three event streams
//         open (pages' worth of updates, read in a separate process), alternating, BENCH_REPEATS times each;
//         BENCH_DASHBOARD=0 skips it, BENCH_DASHBOARD=only runs nothing else
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Client, LocalCluster, delayed, type Delayed } from '@loom/client';
import { processCpuSeconds } from './process-cpu.js';
import { pythonHas, runPythonReference } from './reference.js';
import { fmt, printTable } from './table.js';

const COLD_MAP_TASKS = Number(process.env['BENCH_COLD_MAP_TASKS'] ?? 5_000);
const MAP_TASKS = Number(process.env['BENCH_MAP_TASKS'] ?? 20_000);
const TREE_LEAVES = Number(process.env['BENCH_TREE_LEAVES'] ?? 4_096);
const ROUND_TRIPS = Number(process.env['BENCH_ROUND_TRIPS'] ?? 500);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 3);
const WARM_UP_TASKS = 500;
const DASHBOARD_VIEWERS = 3;

/** One repeat of every workload; the Dask script prints the same fields. */
interface CoreRun {
  config: string;
  repeat: number;
  cluster_start_s: number;
  cold_map_tasks_per_s: number;
  map_tasks_per_s: number;
  tree_tasks: number;
  tree_tasks_per_s: number;
  round_trip_p50_ms: number;
  round_trip_p99_ms: number;
}

type Metric = Exclude<keyof CoreRun, 'config' | 'repeat' | 'tree_tasks'>;
const HIGHER_IS_BETTER: Record<Metric, boolean> = {
  cluster_start_s: false,
  cold_map_tasks_per_s: true,
  map_tasks_per_s: true,
  tree_tasks_per_s: true,
  round_trip_p50_ms: false,
  round_trip_p99_ms: false,
};

const log = (message: string) => process.stderr.write(`[bench:core] ${message}\n`);
const inc = (x: number) => x + 1;

async function withCluster<T>(fn: (client: Client, cluster: LocalCluster) => Promise<T>): Promise<{ value: T; startSeconds: number }> {
  const start = performance.now();
  const cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1, memoryLimit: '2GiB', dashboard: { port: 0 } });
  const client = await Client.connect(cluster.address);
  const startSeconds = (performance.now() - start) / 1000;
  try {
    return { value: await fn(client, cluster), startSeconds };
  } finally {
    await client.close();
    await cluster.close();
  }
}

/** Maps `inc` over `count` items starting at `base`, checks the answer, and returns tasks per second. */
async function timeMap(client: Client, count: number, base: number): Promise<number> {
  const items = Array.from({ length: count }, (_, i) => base + i);
  const start = performance.now();
  const futures = client.map(inc, items, { pure: false });
  const results = (await client.gather(futures)) as number[];
  const seconds = (performance.now() - start) / 1000;
  if (results[count - 1] !== base + count) throw new Error('map gave a wrong answer');
  for (const future of futures) future.release();
  return count / seconds;
}

async function timeTree(client: Client, base: number): Promise<{ tasks: number; perSecond: number }> {
  const start = performance.now();
  const leaf = delayed((i: number, _base: number) => i, { pure: false });
  const add = delayed((a: number, b: number) => a + b, { pure: false });
  let level: Delayed<number>[] = Array.from({ length: TREE_LEAVES }, (_, i) => leaf(i, base));
  let tasks = TREE_LEAVES;
  while (level.length > 1) {
    const next: Delayed<number>[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(add(level[i]!, level[i + 1]!));
    level = next;
    tasks += next.length;
  }
  const total = await level[0]!.compute();
  const seconds = (performance.now() - start) / 1000;
  if (total !== (TREE_LEAVES * (TREE_LEAVES - 1)) / 2) throw new Error(`tree gave ${total}`);
  return { tasks, perSecond: tasks / seconds };
}

async function timeRoundTrips(client: Client): Promise<{ p50: number; p99: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t0 = performance.now();
    const future = client.submitWith({ pure: false }, inc, i);
    if ((await future.result()) !== i + 1) throw new Error('round trip gave a wrong answer');
    latencies.push(performance.now() - t0);
    future.release();
  }
  latencies.sort((a, b) => a - b);
  return { p50: latencies[Math.floor(latencies.length / 2)]!, p99: latencies[Math.ceil(latencies.length * 0.99) - 1]! };
}

async function measureLoom(): Promise<CoreRun[]> {
  const cold: Array<{ startSeconds: number; perSecond: number }> = [];
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const { value, startSeconds } = await withCluster((client) => timeMap(client, COLD_MAP_TASKS, (repeat + 1) * 1e6));
    cold.push({ startSeconds, perSecond: value });
    log(`loom cold ${repeat + 1}/${REPEATS}: cluster up in ${fmt(startSeconds, 2)} s, first graph ${fmt(value)} tasks/s`);
  }
  const { value: runs } = await withCluster(async (client) => {
    await timeMap(client, WARM_UP_TASKS, -1e6);
    const warm: CoreRun[] = [];
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const base = (repeat + 1) * 1e7; // fresh keys every repeat: nothing is reused from the last one
      const map = await timeMap(client, MAP_TASKS, base);
      const tree = await timeTree(client, base);
      const trips = await timeRoundTrips(client);
      const run: CoreRun = {
        config: 'loom',
        repeat: repeat + 1,
        cluster_start_s: cold[repeat]!.startSeconds,
        cold_map_tasks_per_s: cold[repeat]!.perSecond,
        map_tasks_per_s: map,
        tree_tasks: tree.tasks,
        tree_tasks_per_s: tree.perSecond,
        round_trip_p50_ms: trips.p50,
        round_trip_p99_ms: trips.p99,
      };
      log(`loom warm ${repeat + 1}/${REPEATS}: map ${fmt(map)}/s, tree ${fmt(tree.perSecond)}/s, p50 ${fmt(trips.p50, 3)} ms`);
      warm.push(run);
    }
    return warm;
  });
  return runs;
}

/** A workload's first run and its best run (each from one run, never combined across workloads). */
function firstAndBest(runs: readonly CoreRun[], metric: Metric): { first: number; best: number } {
  const values = runs.map((run) => run[metric]);
  const best = HIGHER_IS_BETTER[metric] ? Math.max(...values) : Math.min(...values);
  return { first: values[0]!, best };
}

const COLUMNS: Array<{ metric: Metric; title: string; digits: number }> = [
  { metric: 'cold_map_tasks_per_s', title: `cold ${COLD_MAP_TASKS} map tasks/s`, digits: 0 },
  { metric: 'map_tasks_per_s', title: 'map tasks/s', digits: 0 },
  { metric: 'tree_tasks_per_s', title: 'tree tasks/s', digits: 0 },
  { metric: 'round_trip_p50_ms', title: 'round trip p50 ms', digits: 3 },
  { metric: 'round_trip_p99_ms', title: 'round trip p99 ms', digits: 3 },
  { metric: 'cluster_start_s', title: 'cluster start s', digits: 2 },
];

function bySystem(runs: readonly CoreRun[]): Map<string, CoreRun[]> {
  const systems = new Map<string, CoreRun[]>();
  for (const run of runs) systems.set(run.config, [...(systems.get(run.config) ?? []), run]);
  return systems;
}

function printResults(runs: readonly CoreRun[]): void {
  const systems = bySystem(runs);
  const rows: string[][] = [];
  for (const [config, systemRuns] of systems) {
    for (const which of ['first', 'best'] as const) {
      rows.push([config, which, ...COLUMNS.map(({ metric, digits }) => fmt(firstAndBest(systemRuns, metric)[which], digits))]);
    }
  }
  const treeTasks = runs[0]?.tree_tasks ?? 0;
  printTable(
    `Core scheduler benchmark (2 workers x 1 thread; ${REPEATS} repeats per system; cold = first graph on a fresh cluster; ` +
      `warm map ${MAP_TASKS}, tree ${treeTasks} tasks, ${ROUND_TRIPS} round trips)`,
    ['system', 'run', ...COLUMNS.map((column) => column.title)],
    rows,
  );
  const loom = systems.get('loom');
  const dask = [...systems.entries()].filter(([config]) => config !== 'loom').map(([, systemRuns]) => systemRuns);
  if (loom === undefined || dask.length === 0) return;
  // Against Dask at its best: for each measure and each of first/best, the better Dask configuration.
  const ratioRows = COLUMNS.filter(({ metric }) => metric !== 'cluster_start_s').map(({ metric, title }) => {
    const cells = (['first', 'best'] as const).map((which) => {
      const loomValue = firstAndBest(loom, metric)[which];
      const daskValues = dask.map((systemRuns) => firstAndBest(systemRuns, metric)[which]);
      const ratio = HIGHER_IS_BETTER[metric] ? loomValue / Math.max(...daskValues) : Math.min(...daskValues) / loomValue;
      return `${fmt(ratio, 1)}x`;
    });
    return [title, ...cells];
  });
  printTable('Loom vs Dask at its best (higher is better; target 10x)', ['measure', 'first runs', 'best runs'], ratioRows);
}

/** Runs `fn` while DASHBOARD_VIEWERS event streams read the dashboard from another process. */
async function withViewers<T>(dashboardUrl: string, fn: () => Promise<T>): Promise<T> {
  const script = fileURLToPath(new URL('./dashboard-viewers.js', import.meta.url));
  const viewers = spawn(process.execPath, [script, dashboardUrl, String(DASHBOARD_VIEWERS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = (await once(viewers.stdout, 'data')) as [Buffer];
    if (!chunk.toString().includes('ready')) throw new Error(`the dashboard viewers said '${chunk.toString()}'`);
    return await fn();
  } finally {
    viewers.kill('SIGTERM');
    await once(viewers, 'exit');
  }
}

/**
 * Map and tree throughput with no viewer and with three, alternating on one cluster; best of each. Throughput on
 * a small shared machine moves by tens of percent between identical runs, so the scheduler's own CPU time per task
 * (summed over every run of a mode) is shown beside it: what the open pages cost the scheduler, nearly free of
 * the noise of other processes.
 */
async function measureDashboardLoad(): Promise<void> {
  const best = { none: { map: 0, tree: 0 }, viewers: { map: 0, tree: 0 } };
  const cpu = { none: { seconds: 0, tasks: 0 }, viewers: { seconds: 0, tasks: 0 } };
  /** Every run's tasks over its seconds, per workload: a ratio of sums is steadier than one of bests. */
  const all = { none: { map: { tasks: 0, seconds: 0 }, tree: { tasks: 0, seconds: 0 } }, viewers: { map: { tasks: 0, seconds: 0 }, tree: { tasks: 0, seconds: 0 } } };
  await withCluster(async (client, cluster) => {
    const url = cluster.dashboardUrl;
    if (url === undefined) throw new Error('the cluster serves no dashboard');
    await timeMap(client, WARM_UP_TASKS, -2e6);
    const schedulerCpu = () => processCpuSeconds(cluster.schedulerPid);
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      // The order alternates, so neither mode always runs on the heels of the other.
      for (const mode of repeat % 2 === 0 ? (['none', 'viewers'] as const) : (['viewers', 'none'] as const)) {
        const base = (repeat + 1) * 1e8 + (mode === 'viewers' ? 5e7 : 0);
        const run = async () => {
          const before = schedulerCpu();
          const map = await timeMap(client, MAP_TASKS, base);
          const tree = await timeTree(client, base);
          const after = schedulerCpu();
          all[mode].map.tasks += MAP_TASKS;
          all[mode].map.seconds += MAP_TASKS / map;
          all[mode].tree.tasks += tree.tasks;
          all[mode].tree.seconds += tree.tasks / tree.perSecond;
          if (before !== undefined && after !== undefined) {
            cpu[mode].seconds += after - before;
            cpu[mode].tasks += MAP_TASKS + tree.tasks;
          }
          return { map, tree: tree.perSecond };
        };
        const { map, tree } = mode === 'none' ? await run() : await withViewers(url, run);
        best[mode].map = Math.max(best[mode].map, map);
        best[mode].tree = Math.max(best[mode].tree, tree);
        log(`dashboard load ${repeat + 1}/${REPEATS}, ${mode === 'none' ? 'no viewer' : `${DASHBOARD_VIEWERS} streams`}: map ${fmt(map)}/s, tree ${fmt(tree)}/s`);
      }
    }
  });
  printTable(
    `Dashboard load (best of ${REPEATS}, and all runs' tasks over their time; ${DASHBOARD_VIEWERS} event streams open vs none; target at least 95 %)`,
    ['workload', 'no viewer tasks/s', `${DASHBOARD_VIEWERS} streams tasks/s`, 'ratio', 'all runs: no viewer', `${DASHBOARD_VIEWERS} streams`, 'ratio'],
    (['map', 'tree'] as const).map((workload) => {
      const rate = (mode: 'none' | 'viewers') => all[mode][workload].tasks / all[mode][workload].seconds;
      return [
        workload,
        fmt(best.none[workload]),
        fmt(best.viewers[workload]),
        `${fmt((best.viewers[workload] / best.none[workload]) * 100, 1)} %`,
        fmt(rate('none')),
        fmt(rate('viewers')),
        `${fmt((rate('viewers') / rate('none')) * 100, 1)} %`,
      ];
    }),
  );
  if (cpu.none.tasks > 0) {
    const perTask = (mode: 'none' | 'viewers') => (cpu[mode].seconds / cpu[mode].tasks) * 1e6;
    printTable(
      `Scheduler CPU per task, map and tree together (all ${REPEATS} runs of each mode; /proc, 10 ms ticks)`,
      ['no viewer µs/task', `${DASHBOARD_VIEWERS} streams µs/task`, 'extra'],
      [[fmt(perTask('none'), 2), fmt(perTask('viewers'), 2), `${fmt((perTask('viewers') / perTask('none') - 1) * 100, 1)} %`]],
    );
  }
}

async function main(): Promise<void> {
  if (process.env['BENCH_DASHBOARD'] === 'only') {
    await measureDashboardLoad();
    return;
  }
  log(`Loom: LocalCluster 2 workers x 1 thread; cold ${COLD_MAP_TASKS} map tasks; warm ${MAP_TASKS} map tasks, ` +
    `${TREE_LEAVES}-leaf tree, ${ROUND_TRIPS} round trips; ${REPEATS} repeats`);
  const runs = await measureLoom();
  if (process.env['BENCH_SKIP_DASK']) log('skipping Dask (BENCH_SKIP_DASK set)');
  else if (!pythonHas('distributed')) log('Dask not importable by /usr/bin/python3 (apt-get install -y python3-distributed): Loom only');
  else {
    log(`Dask: LocalCluster 2 processes x 1 thread, default and worker-saturation=inf, ${REPEATS} repeats each (takes a few minutes)`);
    const script = fileURLToPath(new URL('../dask_core.py', import.meta.url));
    const args = [COLD_MAP_TASKS, MAP_TASKS, TREE_LEAVES, ROUND_TRIPS, REPEATS].map(String);
    runs.push(...runPythonReference<CoreRun>(script, args, 30 * 60_000));
  }
  printResults(runs);
  if (process.env['BENCH_DASHBOARD'] === '0') log('skipping the dashboard-load row (BENCH_DASHBOARD=0)');
  else await measureDashboardLoad();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
