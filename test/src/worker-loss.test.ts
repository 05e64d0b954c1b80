// Workers that die: SIGKILL in the middle of a 1,000-task graph, a task that kills every worker it touches (each
// comes back through its nanny), a frozen worker found by its missing heartbeats, and a graceful SIGTERM that hands
// work back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delayed, type Delayed } from '@loom/client';
import { isLoomError } from '@loom/protocol';
import { eventually, sleep, useCluster } from './cluster-fixture.js';

const fixture = useCluster({ workers: 3 });

/** 1,000 tasks: 500 slow-ish leaves, a layer of pairwise sums, and a final total. */
function thousandTaskGraph(salt: number): { graph: Delayed<number>; expected: number } {
  const leaf = delayed(
    async (i: number, salt: number) => {
      await new Promise((resolve) => setTimeout(resolve, 4));
      return i * 3 + salt;
    },
  );
  const add = delayed((a: number, b: number) => a + b);
  const sum = delayed((values: number[]) => values.reduce((a, b) => a + b, 0));
  const leaves = Array.from({ length: 500 }, (_, i) => leaf(i, salt));
  const pairs: Delayed<number>[] = [];
  for (let i = 0; i < leaves.length; i += 2) pairs.push(add(leaves[i]!, leaves[i + 1]!));
  const middle: Delayed<number>[] = [];
  for (let i = 0; i < pairs.length; i += 1) middle.push(add(pairs[i]!, 0));
  // 500 leaves + 250 pairs + 249 middles + 1 total = 1,000 tasks
  middle.pop();
  const total = sum([...middle, pairs[pairs.length - 1]!]);
  let expected = 0;
  for (let i = 0; i < 500; i++) expected += i * 3 + salt;
  return { graph: total, expected };
}

test('a worker killed with SIGKILL mid-graph: the 1,000-task result is still exactly right', async () => {
  const { cluster, client } = fixture;
  const { graph, expected } = thousandTaskGraph(17);
  const result = graph.compute();
  await eventually('work under way', async () => {
    const info = await client.schedulerInfo();
    return (info.taskCounts['memory'] ?? 0) > 100 ? true : undefined;
  });
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

test('SIGTERM: a worker shuts down cleanly, handing back queued work, and the result is exact', async () => {
  const { cluster, client } = fixture;
  await eventually('workers up', async () => ((await client.schedulerInfo()).workers.length >= 2 ? true : undefined));
  const { graph, expected } = thousandTaskGraph(99);
  const result = graph.compute();
  await sleep(300);
  const leaving = cluster.killWorker(0, 'SIGTERM');
  assert.equal(await result, expected);
  assert.deepEqual(await leaving, { code: 0, signal: null }, 'graceful exit');
});
