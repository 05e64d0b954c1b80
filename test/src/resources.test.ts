// Resources: a task needing { GPU: 1 } runs only where a worker declared a GPU, never more at once than
// declared, and waits in no-worker until such a worker joins. Each test adds the GPU worker it needs and takes
// it away again, so the file's cluster is one plain worker between tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataframe, delayed, isLoomError, type LocalWorker } from '@loom/client';
import { buildInferenceGraph, charcnn, createSession, initialWeights, isMlError, mlp, train } from '@loom/ml';
import { eventually, useCluster } from './cluster-fixture.js';

const fixture = useCluster({ workers: 1, threadsPerWorker: 2 });

/** Runs `body` with one more worker declaring { GPU: 1 }, removed afterwards even when `body` fails. */
async function withGpuWorker<T>(threads: number, body: (worker: LocalWorker) => Promise<T>): Promise<T> {
  const worker = await fixture.cluster.addWorker({ resources: { GPU: 1 }, threads });
  try {
    return await body(worker);
  } finally {
    const index = fixture.cluster.workers.findIndex((running) => running.name === worker.name);
    if (index >= 0) await fixture.cluster.killWorker(index, 'SIGTERM');
  }
}

/** Whether onnxruntime here can open a CUDA session: the workers share this machine's install. */
async function cudaUsable(): Promise<boolean> {
  const spec = mlp({ inputs: 2, hidden: [2], target: { kind: 'classes', classes: 2 } });
  try {
    const { session } = await createSession(buildInferenceGraph(spec, { weights: initialWeights(spec, 1) }), { provider: 'cuda' });
    await session.release();
    return true;
  } catch (error: unknown) {
    if (isMlError(error, 'PROVIDER_UNAVAILABLE')) return false;
    throw error;
  }
}

test('GPU tasks wait for a GPU worker, run only there, one at a time', async () => {
  const { client } = fixture;
  const onGpu = delayed(
    async (i: number) => {
      const started = Date.now();
      // Long enough that a second GPU task started alongside would overlap it.
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
  await withGpuWorker(4, async (gpuWorker) => {
    const results = await running;
    for (const result of results) assert.equal(result.pid, gpuWorker.pid, 'ran on the GPU worker');
    const spans = results.map((r) => [r.started, r.ended] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], 'never two GPU tasks at once');
    const info = await client.schedulerInfo();
    assert.deepEqual(info.workers.find((w) => w.address === gpuWorker.address)?.resources, { GPU: 1 });
  });
});

test('train() puts replicas on the GPU worker (resources { GPU: 1 }), on CUDA exactly where onnxruntime has it', async () => {
  const { client } = fixture;
  const texts = Array.from({ length: 240 }, (_, i) => (i % 2 === 0 ? `free prize ${i}` : `see you at ${i}`));
  const data = dataframe.fromArrow(dataframe.arrow.tableFromArrays({ body: texts, label: texts.map((_, i) => (i % 2 === 0 ? 'spam' : 'ham')) }), { npartitions: 4 });
  const options = {
    data, text: 'body', label: 'label', model: charcnn({ length: 128, width: 8 }), batchSize: 16, replicas: 2,
    epochs: 1, testFraction: 0, validationFraction: 0,
  };
  const cuda = await cudaUsable();
  await withGpuWorker(2, async (gpuWorker) => {
    const result = await train(client, options);
    assert.deepEqual(result.metrics.processes, [gpuWorker.pid], 'every round ran on the GPU worker');
    // device 'auto' on a GPU worker: CUDA where onnxruntime can open it, else the worker's CPU.
    assert.equal(result.metrics.provider, cuda ? 'cuda' : 'cpu');
    if (cuda) {
      assert.equal((await train(client, { ...options, device: 'cuda' })).metrics.provider, 'cuda');
    } else {
      await assert.rejects(train(client, { ...options, device: 'cuda' }), (error: unknown) =>
        isLoomError(error) && /PROVIDER_UNAVAILABLE|execution provider 'cuda'/.test(error.message));
    }
  });
});
