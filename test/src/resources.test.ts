// Resources: a task needing { GPU: 1 } runs only where a worker declared a GPU, never more at once than
// declared, and waits in no-worker until such a worker joins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataframe, delayed, isLoomError } from '@loom/client';
import { charcnn, providerListed, train } from '@loom/ml';
import { eventually, useCluster } from './cluster-fixture.js';

const fixture = useCluster({ workers: 1, threadsPerWorker: 2 });

test('GPU tasks wait for a GPU worker, run only there, one at a time', async () => {
  const { cluster, client } = fixture;
  const onGpu = delayed(
    async (i: number) => {
      const started = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { i, pid: process.pid, started, ended: Date.now() };
    },
    { resources: { GPU: 1 } },
  );
  const running = Promise.all([onGpu(1).compute(), onGpu(2).compute(), onGpu(3).compute()]);
  await eventually('tasks parked in no-worker', async () => {
    const info = await client.schedulerInfo();
    return (info.taskCounts['no-worker'] ?? 0) === 3 ? true : undefined;
  });
  const gpuWorker = await cluster.addWorker({ resources: { GPU: 1 }, threads: 4 });
  const results = await running;
  for (const result of results) assert.equal(result.pid, gpuWorker.pid, 'ran on the GPU worker');
  const spans = results.map((r) => [r.started, r.ended] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], 'never two GPU tasks at once');
  const info = await client.schedulerInfo();
  assert.deepEqual(info.workers.find((w) => w.address === gpuWorker.address)?.resources, { GPU: 1 });
});

test('train() puts replicas on the GPU worker (resources { GPU: 1 }) and refuses CUDA where onnxruntime has none', async () => {
  const { cluster, client } = fixture;
  const gpuAddress = (await client.schedulerInfo()).workers.find((worker) => worker.resources['GPU'] === 1)?.address;
  const gpuWorker = cluster.workers.find((worker) => worker.address === gpuAddress);
  assert.ok(gpuWorker !== undefined, 'the previous test added a GPU worker');
  const texts = Array.from({ length: 240 }, (_, i) => (i % 2 === 0 ? `free prize ${i}` : `see you at ${i}`));
  const data = dataframe.fromArrow(dataframe.arrow.tableFromArrays({ body: texts, label: texts.map((_, i) => (i % 2 === 0 ? 'spam' : 'ham')) }), { npartitions: 4 });
  const options = { data, text: 'body', label: 'label', model: charcnn({ length: 128, width: 8 }), batchSize: 16, replicas: 2, testFraction: 0 };
  const result = await train(client, options);
  assert.deepEqual(result.metrics.processes, [gpuWorker.pid], 'every round ran on the GPU worker');
  // 'auto' uses CUDA where onnxruntime-node has it; this machine's build has not, so the rounds ran on its CPU.
  assert.equal(result.metrics.provider, providerListed('cuda') ? result.metrics.provider : 'cpu');
  if (!providerListed('cuda')) {
    await assert.rejects(train(client, { ...options, device: 'cuda' }), (error: unknown) => isLoomError(error) && /PROVIDER_UNAVAILABLE|execution provider 'cuda'/.test(error.message));
  }
});
