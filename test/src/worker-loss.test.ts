// Workers that die: SIGKILL in the middle of a 1,000-task graph, a task that kills every worker it touches (each
// comes back through its nanny), a frozen worker found by its missing heartbeats, and a graceful SIGTERM that hands
// its queued work back to run on the other workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delayed, type Delayed } from '@loom/client';
import { isLoomError } from '@loom/protocol';
import { eventually, useCluster } from './cluster-fixture.js';

const fixture = useCluster({ workers: 3 });

/**
 * 1,000 tasks: 500 slow-ish leaves, 250 pairwise sums, 249 sums of neighbouring pairs and a final total, which
 * also reads the first and the last pair. So every pair is read by two tasks and every task reads two inputs or
 * more, and the client's chain fusion (which folds a task read by exactly one other task into it, unless that
 * other task has two such inputs) leaves all 1,000 as separate tasks.
 */
function thousandTaskGraph(salt: number): { graph: Delayed<number>; expected: number } {
  const leaf = delayed(
    async (i: number, salt: number) => {
      await new Promise((resolve) => setTimeout(resolve, 4));
      return i * 3 + salt;
    },
  );
  const add = delayed((a: number, b: number) => a + b);
  const sum = delayed((values: number[], first: number, last: number) => values.reduce((a, b) => a + b, 0) + first + last);
  const leaves = Array.from({ length: 500 }, (_, i) => leaf(i, salt));
  const pairs: Delayed<number>[] = [];
  for (let i = 0; i < leaves.length; i += 2) pairs.push(add(leaves[i]!, leaves[i + 1]!));
  const middle: Delayed<number>[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 1) middle.push(add(pairs[i]!, pairs[i + 1]!));
  const total = sum(middle, pairs[0]!, pairs[249]!);
  // Each middle adds two neighbouring pairs, so the first and last pair count once there, every other pair
  // twice; the total adds the first and last once more.
  const pairValue = (p: number) => (2 * p) * 3 + salt + (2 * p + 1) * 3 + salt;
  let expected = 0;
  for (let p = 0; p < 250; p++) expected += pairValue(p) * 2;
  return { graph: total, expected };
}

test('a worker killed with SIGKILL mid-graph: the 1,000-task result is still exactly right', async () => {
  const { cluster, client } = fixture;
  // The process ids a test (or a benchmark reading /proc) signals: the scheduler's is its own, and alive.
  assert.ok(cluster.schedulerPid > 0 && !cluster.workers.some((worker) => worker.pid === cluster.schedulerPid));
  process.kill(cluster.schedulerPid, 0);
  const { graph, expected } = thousandTaskGraph(17);
  const result = graph.compute();
  const tasksHeld = await eventually('work under way', async () => {
    const info = await client.schedulerInfo();
    const held = Object.values(info.taskCounts).reduce((a, b) => a + b, 0);
    return (info.taskCounts['memory'] ?? 0) > 100 ? held : undefined;
  });
  assert.equal(tasksHeld, 1000, 'the scheduler holds all 1,000 tasks (none fused away)');
  cluster.killWorker(0, 'SIGKILL');
  assert.equal(await result, expected);
  await eventually('dead worker removed', async () => ((await client.schedulerInfo()).workers.length === 2 ? true : undefined));
  await cluster.addWorker();
  await eventually('replacement joined', async () => ((await client.schedulerInfo()).workers.length === 3 ? true : undefined));
});

test('a frozen worker (SIGSTOP) is removed within seconds by its missing heartbeats, and its work is redone', async () => {
  const { cluster, client } = fixture;
  const { graph, expected } = thousandTaskGraph(5);
  const result = graph.compute();
  await eventually('work under way', async () => ((await client.schedulerInfo()).taskCounts['memory'] ?? 0) > 50 ? true : undefined);
  const frozen = cluster.workers[0]!;
  const frozenAt = Date.now();
  process.kill(frozen.pid, 'SIGSTOP');
  try {
    await eventually('frozen worker removed', async () => {
      const info = await client.schedulerInfo();
      return info.workers.some((w) => w.address === frozen.address) ? undefined : true;
    }, 20_000);
    assert.ok(Date.now() - frozenAt < 12_000, `removed after ${Date.now() - frozenAt} ms`);
    assert.equal(await result, expected);
  } finally {
    // Worker and nanny both, so the frozen worker does not come back.
    const index = cluster.workers.findIndex((worker) => worker.pid === frozen.pid);
    if (index >= 0) await cluster.killWorker(index, 'SIGKILL');
    else process.kill(frozen.pid, 'SIGKILL');
  }
  await cluster.addWorker();
});

test('a task that kills three workers errs with KILLED_WORKER instead of looping', async () => {
  const { cluster, client } = fixture;
  await eventually('three workers', async () => ((await client.schedulerInfo()).workers.length >= 3 ? true : undefined));
  const suicidal = delayed(() => {
    process.kill(process.pid, 'SIGKILL');
    return 0;
  }, { pure: false });
  const before = new Map(cluster.workers.map((worker) => [worker.name, worker.pid]));
  await assert.rejects(suicidal().compute(), (error: unknown) => isLoomError(error, 'KILLED_WORKER') && /3 workers/.test(error.message));
  // Each killed worker process is replaced by its nanny, under the same name: the cluster heals by itself.
  await eventually('the nannies restarted the killed workers', async () => {
    const names = (await client.schedulerInfo()).workers.map((worker) => worker.name);
    return [...before.keys()].every((name) => names.includes(name)) ? true : undefined;
  });
  assert.ok(cluster.workers.some((worker) => before.has(worker.name) && before.get(worker.name) !== worker.pid), 'new worker processes');
  const inc = delayed((x: number) => x + 1);
  assert.equal(await inc(1).compute(), 2);
});

test('SIGTERM: a worker hands back its queued tasks, which then run on the others, and finishes the one it runs', async () => {
  const { cluster, client } = fixture;
  await eventually('workers up', async () => ((await client.schedulerInfo()).workers.length >= 2 ? true : undefined));
  const gate = join(tmpdir(), `loom-gate-${randomUUID()}`);
  // Without a gate it takes about 10 ms; with one it waits until the gate file exists. Either way it says where it ran.
  const whereRan = delayed(async (i: number, gatePath: string | null) => {
    const fs = (process as unknown as { getBuiltinModule(id: string): { existsSync(path: string): boolean } }).getBuiltinModule('node:fs');
    if (gatePath === null) await new Promise((resolve) => setTimeout(resolve, 10));
    while (gatePath !== null && !fs.existsSync(gatePath)) await new Promise((resolve) => setTimeout(resolve, 5));
    return { i, pid: process.pid };
  });
  const collect = delayed((runs: Array<{ i: number; pid: number }>) => runs);
  // Once the scheduler knows these take ~10 ms (well under its 100 ms of buffered work per thread) it sends each
  // worker several at a time, and the worker runs them one per thread (each is over its 5 ms batch budget): the
  // rest wait in the worker's queue, which is what a graceful close must hand back.
  await collect(Array.from({ length: 20 }, (_, i) => whereRan(i, null))).compute();
  const result = collect(Array.from({ length: 30 }, (_, i) => whereRan(100 + i, gate))).compute();
  try {
    const busiest = await eventually('a worker with tasks queued behind the one it runs', async () => {
      const { workers } = await client.schedulerInfo();
      const worker = workers.reduce((most, candidate) => (candidate.processing > most.processing ? candidate : most));
      return worker.processing > 1 ? worker : undefined;
    });
    const index = cluster.workers.findIndex((worker) => worker.address === busiest.address);
    const leavingPid = cluster.workers[index]!.pid;
    const leaving = cluster.killWorker(index, 'SIGTERM');
    // Its running task cannot end while the gate is shut, so only the hand-back can take the others off it.
    await eventually('the queued tasks handed back', async () => {
      const { workers } = await client.schedulerInfo();
      return workers.find((worker) => worker.address === busiest.address)?.processing === 1 ? true : undefined;
    });
    writeFileSync(gate, '');
    const runs = await result;
    assert.deepEqual(runs.map((run) => run.i), Array.from({ length: 30 }, (_, i) => 100 + i));
    // The one it was running finishes there (its result may then be recomputed elsewhere, as the worker leaves with
    // it); every task it handed back ran on another worker.
    assert.ok(runs.filter((run) => run.pid === leavingPid).length <= 1, 'no handed-back task ran on the leaving worker');
    assert.deepEqual(await leaving, { code: 0, signal: null }, 'graceful exit');
  } finally {
    rmSync(gate, { force: true });
  }
});
