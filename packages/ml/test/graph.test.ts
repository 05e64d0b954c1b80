import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildModel, charCnn, createSession, evaluateDim, gradients, GraphBuilder, isMlError, modelProto, ops, runSession,
  buildTrainingGraph, type Value,
} from '../src/index.js';

// Shape inference, error reporting, and what the ONNX writer emits.
test('shape inference carries a symbolic batch through reshapes, flattens and broadcasts', () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['batch', 3, 4]);
  assert.deepEqual(ops.reshape(g, x, [-1, 4]).shape, ['3*batch', 4]);
  assert.deepEqual(ops.reshape(g, ops.reshape(g, x, [-1, 4]), [-1, 3, 4]).shape, ['batch', 3, 4]);
  assert.deepEqual(ops.flatten(g, x, 1).shape, ['batch', 12]);
  assert.deepEqual(ops.add(g, x, g.param('b', [1, 4])).shape, ['batch', 3, 4]);
  assert.deepEqual(ops.conv1d(g, x, g.param('w', [5, 3, 3]), null, { pads: [1, 1], stride: 2 }).shape, ['batch', 5, 2]);
  assert.deepEqual(ops.maxPool1d(g, x, { kernel: 3 }).shape, ['batch', 3, 1]);
  assert.deepEqual(ops.reduceMean(g, x, [0]).shape, [3, 4]);
  assert.equal(evaluateDim('3*batch', { batch: 5 }), 15);
});

test('mismatched shapes and foreign values are refused with typed errors', () => {
  const g = new GraphBuilder();
  const a = g.input('a', 'float32', [2, 3]);
  const shapeError = (e: unknown): boolean => isMlError(e, 'SHAPE_MISMATCH');
  assert.throws(() => ops.add(g, a, g.input('b', 'float32', [4])), shapeError);
  assert.throws(() => ops.conv1d(g, g.input('x', 'float32', [1, 2, 8]), g.param('w', [3, 4, 3]), null), shapeError);
  assert.throws(() => ops.reshape(g, a, [4, -1]), shapeError);
  assert.throws(() => ops.gemm(g, a, g.param('m', [4, 5]), null), shapeError);
  assert.throws(() => ops.add(g, a, new GraphBuilder().input('c', 'float32', [2, 3])), (e: unknown) => isMlError(e, 'INVALID_ARGUMENT'));
  assert.throws(() => g.input('a', 'float32', [1]), (e: unknown) => isMlError(e, 'INVALID_ARGUMENT'));
});

test('differentiating through an op without a rule fails with NO_GRADIENT; unused parameters get zeros', async () => {
  const g = new GraphBuilder({ dtype: 'float64' });
  const x = g.param('x', [3]);
  const loss = ops.reduceSum(g, ops.pow(g, x, g.scalar(2, 'float64')), [0]);
  assert.throws(() => gradients(g, loss, [x]), (e: unknown) => isMlError(e, 'NO_GRADIENT') && /Pow/.test(e.message));

  const h = new GraphBuilder({ dtype: 'float64' });
  const used = h.param('used', [2]);
  const unused = h.param('unused', [2, 2]);
  const [dUsed, dUnused] = gradients(h, ops.reduceSum(h, ops.mul(h, used, used), [0]), [used, unused]) as [Value, Value];
  const session = (await createSession(buildModel(h, { outputs: { dUsed, dUnused } }))).session;
  const out = await runSession(session, {
    used: { dtype: 'float64', shape: [2], data: Float64Array.of(1.5, -2) },
    unused: { dtype: 'float64', shape: [2, 2], data: new Float64Array(4) },
  }, ['dUsed', 'dUnused']);
  assert.deepEqual(Array.from(out['dUsed']?.data as Float64Array), [3, -4]);
  assert.deepEqual(Array.from(out['dUnused']?.data as Float64Array), [0, 0, 0, 0]);
  await session.release();
});

test('the ONNX writer prunes unused nodes, names outputs and records opset, metadata and initializers', () => {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['batch', 2]);
  const w = g.param('w', [3, 2]);
  const y = ops.gemm(g, x, w, null, { transB: true });
  ops.sigmoid(g, y); // not requested: must be pruned
  const proto = modelProto(g, {
    outputs: { y, echo: x },
    weights: new Map([['w', { dtype: 'float32', shape: [3, 2], data: new Float32Array(6) }]]),
    metadata: { note: '"hi"' },
  });
  const graph = proto.graph!;
  // The Gemm writes `y` itself; only the graph input passed straight through needs an Identity.
  assert.deepEqual(graph.node?.map((n) => n.opType), ['Gemm', 'Identity']);
  assert.deepEqual(graph.node?.map((n) => n.output), [['y'], ['echo']]);
  assert.deepEqual(graph.output?.map((o) => o.name), ['y', 'echo']);
  assert.deepEqual(graph.input?.map((i) => i.name), ['x']);
  assert.deepEqual(graph.initializer?.map((i) => i.name), ['w']);
  assert.equal(graph.input?.[0]?.type?.tensorType?.shape?.dim?.[0]?.dimParam, 'batch');
  assert.deepEqual(proto.opsetImport, [{ domain: '', version: 18 }]);
  assert.deepEqual(proto.metadataProps, [{ key: 'note', value: '"hi"' }]);
});

test('the CharCNN-small training graph has the paper\'s shapes and only ordinary ONNX ops', () => {
  const spec = charCnn({ classes: ['a', 'b', 'c', 'd'] });
  const shapes = Object.fromEntries(spec.params.map((p) => [p.name, p.shape]));
  assert.deepEqual(shapes['conv1.weight'], [256, 70, 7]);
  assert.deepEqual(shapes['conv2.weight'], [256, 256, 7]);
  assert.deepEqual(shapes['conv6.weight'], [256, 256, 3]);
  assert.deepEqual(shapes['fc7.weight'], [1024, 34 * 256]);
  assert.deepEqual(shapes['fc9.weight'], [4, 1024]);
  const large = Object.fromEntries(charCnn({ classes: ['a', 'b'], size: 'large' }).params.map((p) => [p.name, p.shape]));
  assert.deepEqual(large['conv3.weight'], [1024, 1024, 3]);
  assert.deepEqual(large['fc8.weight'], [2048, 2048]);
  const graph = buildTrainingGraph(spec, { kind: 'adam' });
  assert.equal(graph.dropout.length, 2);
  assert.deepEqual(graph.dropout.map((d) => d.shape), [['batch', 1024], ['batch', 1024]]);
  assert.ok(graph.outputs.includes('conv1.weight.next') && graph.outputs.includes('conv1.weight.adam_m.next'));
});
