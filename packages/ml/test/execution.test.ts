import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildInferenceGraph, createSession, initialWeights, isMlError, mlp, providerListed, Trainer, type ExecutionConfig } from '../src/index.js';

// Execution providers come from configuration. Asking for CUDA where onnxruntime cannot use it must fail with
// PROVIDER_UNAVAILABLE (not fall back silently); 'auto' must fall back to CPU; and a session said to run on a
// provider must have run its kernels there, as onnxruntime's own profile records.
const spec = mlp({ inputs: 3, hidden: [4], target: { kind: 'classes', classes: 2 } });
const model = buildInferenceGraph(spec, { weights: initialWeights(spec, 1) });
const features = Float32Array.of(1, 2, 3, 4, 5, 6);
const dir = mkdtempSync(join(tmpdir(), 'loom-execution-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function cudaLibraryInstalled(): boolean {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('onnxruntime-node/package.json'));
  return existsSync(join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
}

/** An NVIDIA GPU the CUDA provider could use (its driver's device nodes). */
const gpuPresent = (): boolean => existsSync('/dev/nvidiactl') && existsSync('/dev/nvidia0');

/** Runs the model once on `config`'s provider; returns the outputs and the providers its kernels ran on. */
async function runProfiled(config: ExecutionConfig, name: string): Promise<{ provider: string; output: Float32Array; kernelProviders: Set<string> }> {
  const profile = join(dir, name);
  const { session, provider } = await createSession(model, { ...config, profile });
  const results = await session.run({ features: new ort.Tensor('float32', features, [2, 3]) });
  const output = Object.values(results)[0]?.data as Float32Array;
  await session.release();
  const file = readdirSync(dir).find((entry) => entry.startsWith(`${name}_`) && entry.endsWith('.json'));
  assert.ok(file !== undefined, `onnxruntime wrote a profile for ${name}`);
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat?: string; args?: { provider?: string } }[];
  const kernelProviders = new Set(events.flatMap((event) => (event.cat === 'Node' && event.args?.provider ? [event.args.provider] : [])));
  return { provider, output, kernelProviders };
}

test('CPU is the default provider, and the kernels run on it', async () => {
  const run = await runProfiled({}, 'default');
  assert.equal(run.provider, 'cpu');
  assert.deepEqual([...run.kernelProviders], ['CPUExecutionProvider']);
  assert.equal(run.output.length, 4);
  assert.ok(providerListed('cpu'));
});

test('CUDA runs on the GPU where onnxruntime can load it, and fails with PROVIDER_UNAVAILABLE everywhere else', async () => {
  if (cudaLibraryInstalled() && gpuPresent()) {
    // A CUDA-enabled install on a machine with a GPU: the kernels run on CUDA and compute what the CPU does.
    const cuda = await runProfiled({ provider: 'cuda' }, 'cuda');
    const cpu = await runProfiled({ provider: 'cpu' }, 'cpu');
    assert.equal(cuda.provider, 'cuda');
    assert.ok(cuda.kernelProviders.has('CUDAExecutionProvider'), `kernels ran on ${[...cuda.kernelProviders].join(', ')}`);
    cuda.output.forEach((value, i) => assert.ok(Math.abs(value - (cpu.output[i] as number)) < 1e-4, `output ${i}: ${value} vs ${cpu.output[i]}`));
    return;
  }
  await assert.rejects(createSession(model, { provider: 'cuda' }), (error: unknown) => {
    assert.ok(isMlError(error, 'PROVIDER_UNAVAILABLE'));
    assert.match(error.message, /execution provider 'cuda' was requested/);
    assert.match(error.message, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
    return true;
  });
  await assert.rejects(
    Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 1e-3, execution: { provider: 'cuda' } }),
    (error: unknown) => isMlError(error, 'PROVIDER_UNAVAILABLE'),
  );
});

test("'auto' falls back to CPU when CUDA cannot load, and threads are configurable", async () => {
  const trainer = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 1e-3, execution: { provider: 'auto', threads: 1 } });
  assert.equal(trainer.provider, cudaLibraryInstalled() && gpuPresent() ? 'cuda' : 'cpu');
  const result = await trainer.step({ inputs: { features: [1, 2, 3, 4, 5, 6] }, labels: [0, 1] });
  assert.ok(Number.isFinite(result.loss));
  await trainer.dispose();
});
