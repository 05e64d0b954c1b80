import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  charCnn, encodeTexts, InferenceModel, readModelMetadata, relativeError, Rng, textEncodingFromMetadata, Trainer,
} from '../src/index.js';

// The exported file is a plain inference model: one int64 input `chars`, one output `logits`, weights as
// initializers, and metadata describing how to encode text for it.
const classes = ['world', 'sports', 'business'];
const alphabet = 'abcdefghijklmnopqrstuvwxyz';
const length = 128;

function texts(rng: Rng, count: number): string[] {
  return Array.from({ length: count }, () => Array.from({ length: 40 + rng.int(80) }, () => 'Abc xyz.'[rng.int(8)]).join(''));
}

test('export writes an inference model onnxruntime loads, with the text metadata', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'loom-ml-export-'));
  try {
    const spec = charCnn({ classes, alphabet, length, features: 8, hidden: 16 });
    const trainer = await Trainer.create(spec, { optimizer: { kind: 'adam' }, learningRate: 1e-3, seed: 4 });
    const rng = new Rng(1);
    const chars = encodeTexts(texts(rng, 4), { alphabet, length, lowercase: true });
    await trainer.step({ inputs: { chars }, labels: [0, 1, 2, 0] });
    const path = join(dir, 'model.onnx');
    await trainer.export(path);

    const model = await InferenceModel.load(path);
    assert.deepEqual(model.inputNames, ['chars']);
    assert.deepEqual(model.outputNames, ['logits']);
    assert.equal(model.provider, 'cpu');
    assert.deepEqual(JSON.parse(model.metadata['classes'] ?? 'null'), classes);
    assert.equal(JSON.parse(model.metadata['alphabet'] ?? 'null'), alphabet);
    assert.equal(JSON.parse(model.metadata['length'] ?? 'null'), length);
    assert.equal(JSON.parse(model.metadata['lowercase'] ?? 'null'), true);
    assert.deepEqual(textEncodingFromMetadata(model.metadata), { alphabet, length, lowercase: true });

    // Any batch size: the batch dim is symbolic in the exported graph.
    for (const rows of [1, 5]) {
      const input = encodeTexts(texts(rng, rows), textEncodingFromMetadata(model.metadata));
      const out = await model.run({ chars: { dtype: 'int64', shape: [rows, length], data: input } });
      assert.deepEqual(out['logits']?.shape, [rows, classes.length]);
      // Same weights, no dropout: the exported model and the trainer's own inference graph agree.
      const expected = await trainer.predict({ chars: input });
      assert.ok(relativeError(Array.from(out['logits']?.data as Float32Array), Array.from(expected.data as Float32Array)) < 1e-6);
    }
    await model.dispose();
    await trainer.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('exported predictions match the training graph\'s forward pass', async () => {
  // Without dropout the training step's logits are the forward pass of the weights it started from.
  const spec = charCnn({ classes, alphabet, length, features: 8, hidden: 16, dropout: 0 });
  const trainer = await Trainer.create(spec, { optimizer: { kind: 'sgd', momentum: 0.9 }, learningRate: 0.01, seed: 8 });
  const rng = new Rng(2);
  for (let i = 0; i < 3; i++) {
    const chars = encodeTexts(texts(rng, 6), { alphabet, length, lowercase: true });
    const exported = await InferenceModel.load(trainer.exportModel());
    const inference = await exported.run({ chars: { dtype: 'int64', shape: [6, length], data: chars } });
    // Index inputs may come as Int32Array as well as BigInt64Array.
    const step = await trainer.step({ inputs: { chars: i === 1 ? Int32Array.from(chars, Number) : chars }, labels: [0, 1, 2, 2, 1, 0] });
    const got = Array.from(inference['logits']?.data as Float32Array);
    const want = Array.from(step.output.data as Float32Array);
    assert.ok(relativeError(got, want) < 1e-6, `step ${i}: exported ${got.slice(0, 3).join(',')} vs training ${want.slice(0, 3).join(',')}`);
    await exported.dispose();
  }
  await trainer.dispose();
});

test('metadata can be read from model bytes, and text encoding is 1-based with 0 for unknown and padding', () => {
  const spec = charCnn({ classes: ['a', 'b'], alphabet: 'ab-', length: 128, features: 4, hidden: 4 });
  assert.equal(readModelMetadata(new Uint8Array(0))['alphabet'], undefined);
  assert.deepEqual(Object.keys(spec.metadata).sort(), ['alphabet', 'classes', 'length', 'loom.model', 'lowercase']);
  const encoded = encodeTexts(['Ab?-', 'b'], { alphabet: 'ab-', length: 6, lowercase: true });
  assert.deepEqual(Array.from(encoded, Number), [1, 2, 0, 3, 0, 0, 2, 0, 0, 0, 0, 0]);
  const cased = encodeTexts(['Ab'], { alphabet: 'ab-', length: 2, lowercase: false });
  assert.deepEqual(Array.from(cased, Number), [0, 2]);
});
