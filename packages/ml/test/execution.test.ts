import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createSession, isMlError, mlp, providerListed, Trainer, buildInferenceGraph } from '../src/index.js';

// Execution providers come from configuration. This machine has no CUDA provider library, so asking for CUDA
// must fail with PROVIDER_UNAVAILABLE (not fall back silently); 'auto' must fall back to CPU.
const spec = mlp({ inputs: 3, hidden: [4], target: { kind: 'classes', classes: 2 } });
const model = buildInferenceGraph(spec);

function cudaLibraryInstalled(): boolean {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('onnxruntime-node/package.json'));
  return existsSync(join(root, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'));
}

test('CPU is the default provider', async () => {
  const { session, provider } = await createSession(model);
  assert.equal(provider, 'cpu');
  await session.release();
});

test('requesting CUDA without the provider library fails with PROVIDER_UNAVAILABLE and a clear message', async () => {
  if (cudaLibraryInstalled()) {
    // A CUDA-enabled install (not this CPU-only machine): the session must really run on CUDA, or fail loudly.
    const loaded = await createSession(model, { provider: 'cuda' }).catch((error: unknown) => {
      assert.ok(isMlError(error, 'PROVIDER_UNAVAILABLE'));
      return undefined;
    });
    if (loaded !== undefined) assert.equal(loaded.provider, 'cuda');
    await loaded?.session.release();
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
  assert.equal(trainer.provider, 'cpu');
  const result = await trainer.step({ inputs: { features: [1, 2, 3, 4, 5, 6] }, labels: [0, 1] });
  assert.ok(Number.isFinite(result.loss));
  assert.equal(typeof providerListed('cuda'), 'boolean');
  await trainer.dispose();
});
