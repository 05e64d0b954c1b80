// Task threads of an `ar` run must not load onnxruntime: it is the lstm family's training engine only, and
// loading it costs every thread time and tens of megabytes. Each case runs in a fresh worker thread (its own
// module graph) and reads that thread's CommonJS cache, where onnxruntime-node's modules and its native
// binding land when anything imports @loom/ml.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

const url = (path: string): string => new URL(path, import.meta.url).href;
const TASKS = url('../src/tasks/index.js');
const FAMILY_SPEC = url('../src/families/family-spec.js');
const PACKAGE = url('../src/index.js');

/** Imports `modules` in a fresh thread, resolves `spec` (and trains one series if `train`), and lists the onnxruntime modules loaded. */
async function onnxruntimeModulesAfter(modules: readonly string[], spec: unknown, train = false): Promise<string[]> {
  const code = `
    import { createRequire } from 'node:module';
    import { parentPort, workerData } from 'node:worker_threads';
    for (const module of workerData.modules) await import(module);
    const { resolveFamily } = await import(workerData.familySpec);
    const family = await resolveFamily(workerData.spec);
    if (workerData.train) {
      const series = Float64Array.from({ length: 40 }, (_, i) => Math.sin(i / 3) + (i % 7) / 10);
      const fitted = await family.fitBatch([series]);
      if (fitted.ok[0] !== 1) throw new Error('the control fit failed: ' + JSON.stringify(fitted.failures));
    }
    const cache = createRequire(workerData.familySpec).cache;
    parentPort.postMessage(Object.keys(cache).filter((path) => path.includes('onnxruntime')));
  `;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData: { modules, familySpec: FAMILY_SPEC, spec, train } });
  try {
    return await new Promise<string[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
    });
  } finally {
    await worker.terminate();
  }
}

test('a task thread that resolves an ar spec does not load onnxruntime-node', async () => {
  const loaded = await onnxruntimeModulesAfter([TASKS], { family: 'ar', params: { p: 8 } });
  assert.deepEqual(loaded, [], `importing @loom/models/tasks and resolving ar loaded:\n${loaded.join('\n')}`);
});

test('importing @loom/models and resolving lstm loads onnxruntime-node only when a network is trained', async () => {
  const spec = { family: 'lstm', params: { window: 4, hidden: 2, steps: 2, batch: 4 } };
  assert.deepEqual(await onnxruntimeModulesAfter([PACKAGE], spec), []);
  // The control: the same check sees onnxruntime once fitBatch has needed it, so an empty list above means something.
  const trained = await onnxruntimeModulesAfter([PACKAGE], spec, true);
  assert.ok(trained.some((path) => path.endsWith('.node')), `expected onnxruntime's native binding after fitBatch, got ${JSON.stringify(trained)}`);
});
