import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkGradients, differentiableOps, GraphBuilder, gradients, buildModel, createSession, runSession, lstmCell,
  meanSquaredError, normalTensor, ops, Rng, softmaxCrossEntropy, type GradientCheckCase, type TensorData, type Value,
} from '../src/index.js';

// Every gradient rule is checked against central finite differences of the same graph run in onnxruntime.
// Float64 graphs where onnxruntime has double kernels (tolerance 1e-7); Conv and MaxUnpool exist only in float32,
// so those cases use a float64 loss and steps the op is exactly linear over (tolerance 1e-5).
const covered = new Set<string>();
const errors: string[] = [];
const rng = new Rng(2024);
const n64 = (...shape: number[]): TensorData => normalTensor(rng, 'float64', shape);
const n32 = (...shape: number[]): TensorData => normalTensor(rng, 'float32', shape);
const positive = (...shape: number[]): TensorData => {
  const t = n64(...shape);
  return { ...t, data: (t.data as Float64Array).map((v) => 0.5 + Math.abs(v)) };
};
/** Values with gaps of 0.1 between any two, so a step of 0.01 never changes which element is the max. */
const distinct = (dtype: 'float32' | 'float64', ...shape: number[]): TensorData => {
  const size = shape.reduce((a, b) => a * b, 1);
  const order = rng.shuffle(Array.from({ length: size }, (_, i) => i));
  const data = dtype === 'float32' ? Float32Array.from(order, (v) => (v - size / 2) * 0.1) : Float64Array.from(order, (v) => (v - size / 2) * 0.1);
  return { dtype, shape, data };
};
/** Normal values pushed away from 0 (ReLU's kink). */
const offZero = (...shape: number[]): TensorData => {
  const t = n64(...shape);
  return { ...t, data: (t.data as Float64Array).map((v) => (v >= 0 ? v + 0.1 : v - 0.1)) };
};
const indices = (values: number[], shape: number[]): TensorData => ({ dtype: 'int64', shape, data: BigInt64Array.from(values, BigInt) });

async function check(name: string, spec: GradientCheckCase, tolerance = spec.dtype === 'float64' ? 1e-7 : 1e-5): Promise<void> {
  const result = await checkGradients(spec);
  result.forwardOps.forEach((op) => covered.add(op));
  errors.push(`${name}: ${result.maxRelativeError.toExponential(2)} (backward: ${result.backwardOps.join(' ')})`);
  assert.ok(result.maxRelativeError < tolerance,
    `${name}: relative errors ${JSON.stringify(result.relativeErrors)} exceed ${tolerance}`);
}

after(() => {
  console.log(`gradient checks (norm-wise relative error, analytic vs central differences):\n  ${errors.join('\n  ')}`);
});

test('Conv 1-D with padding: input, weight and bias gradients (Conv with flipped kernel, Gather-unfold + Gemm)', async () => {
  await check('Conv pads', { dtype: 'float32', step: 1, inputs: { x: n32(2, 3, 9), w: n32(4, 3, 3), b: n32(4) },
    build: (g, v) => ops.conv1d(g, v['x'] as Value, v['w'] as Value, v['b'] as Value, { pads: [1, 2] }) });
});

test('Conv 1-D without padding (the CharCNN case), with dilation, and with padding wider than the kernel', async () => {
  await check('Conv plain', { dtype: 'float32', step: 1, inputs: { x: n32(2, 3, 11), w: n32(5, 3, 7), b: n32(5) },
    build: (g, v) => ops.conv1d(g, v['x'] as Value, v['w'] as Value, v['b'] as Value) });
  await check('Conv dilation 2', { dtype: 'float32', step: 1, inputs: { x: n32(2, 2, 10), w: n32(3, 2, 3) },
    build: (g, v) => ops.conv1d(g, v['x'] as Value, v['w'] as Value, null, { dilation: 2, pads: [1, 0] }) });
  await check('Conv wide pads', { dtype: 'float32', step: 1, inputs: { x: n32(1, 2, 5), w: n32(2, 2, 2) },
    build: (g, v) => ops.conv1d(g, v['x'] as Value, v['w'] as Value, null, { pads: [3, 2] }) });
});

test('Conv 1-D with stride 2 (input gradient through ConvTranspose)', async () => {
  await check('Conv stride 2', { dtype: 'float32', step: 1, inputs: { x: n32(2, 3, 10), w: n32(4, 3, 3), b: n32(4) },
    build: (g, v) => ops.conv1d(g, v['x'] as Value, v['w'] as Value, v['b'] as Value, { stride: 2, pads: [1, 0] }) });
});

test('MaxPool 1-D, disjoint windows (indices from ArgMax), a ragged end, and padding (MaxUnpool of Indices)', async () => {
  await check('MaxPool k3', { dtype: 'float32', step: 0.01, inputs: { x: distinct('float32', 2, 3, 9) },
    build: (g, v) => ops.maxPool1d(g, v['x'] as Value, { kernel: 3 }) });
  await check('MaxPool k3 L11', { dtype: 'float32', step: 0.01, inputs: { x: distinct('float32', 2, 3, 11) },
    build: (g, v) => ops.maxPool1d(g, v['x'] as Value, { kernel: 3 }) });
  await check('MaxPool k3 pads', { dtype: 'float32', step: 0.01, inputs: { x: distinct('float32', 2, 2, 7) },
    build: (g, v) => ops.maxPool1d(g, v['x'] as Value, { kernel: 3, pads: [1, 1] }) });
});

test('MaxPool 1-D, overlapping windows (ScatterElements-add of Indices), float64', async () => {
  await check('MaxPool k3 s2', { dtype: 'float64', step: 0.01, inputs: { x: distinct('float64', 2, 3, 9) },
    build: (g, v) => ops.maxPool1d(g, v['x'] as Value, { kernel: 3, stride: 2 }) });
});

test('MaxPool gradient with tied windows routes each output gradient to exactly one input', async () => {
  // Zero-padded text gives windows of identical values; an "equals the max" mask would count each tie twice.
  for (const stride of [3, 1]) {
    const g = new GraphBuilder({ dtype: 'float32' });
    const x = g.input('x', 'float32', [1, 2, 9]);
    const dy = g.input('dy', 'float32', [1, 2, stride === 3 ? 3 : 7]);
    const y = ops.maxPool1d(g, x, { kernel: 3, stride });
    const loss = ops.reduceSum(g, ops.mul(g, y, dy), [0, 1, 2]);
    const [dx] = gradients(g, loss, [x]);
    const session = (await createSession(buildModel(g, { outputs: { dx: dx as Value } }))).session;
    const xData = Float32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 0, /* channel 2 */ 2, 2, 2, 0, 0, 0, 0, 0, 0]);
    const dyData = Float32Array.from({ length: dy.shape.reduce<number>((a, b) => a * (b as number), 1) }, (_, i) => i + 1);
    const out = await runSession(session, {
      x: { dtype: 'float32', shape: [1, 2, 9], data: xData },
      dy: { dtype: 'float32', shape: dy.shape as number[], data: dyData },
    }, ['dx']);
    const got = Array.from(out['dx']?.data as Float32Array);
    const total = (values: ArrayLike<number>): number => Array.from(values).reduce((a, b) => a + b, 0);
    assert.equal(total(got), total(dyData), `stride ${stride}: gradient mass must be conserved, got ${got.join(',')}`);
    // Each output's gradient lands on one element of its own window: the first maximum, as MaxPool picks it.
    assert.ok(got.every((v) => Number.isInteger(v) && v >= 0));
    if (stride === 3) assert.deepEqual(got, [1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0, 5, 0, 0, 6, 0, 0]);
    await session.release();
  }
});

test('Gemm in all four transpose layouts, with alpha, beta and a broadcast C', async () => {
  const layouts: [boolean, boolean, number[] | null][] = [[false, false, [5]], [true, false, [3, 5]], [false, true, [1, 5]], [true, true, null]];
  for (const [transA, transB, cShape] of layouts) {
    const a = transA ? n64(4, 3) : n64(3, 4);
    const b = transB ? n64(5, 4) : n64(4, 5);
    await check(`Gemm transA=${transA} transB=${transB}`, {
      dtype: 'float64', inputs: cShape === null ? { a, b } : { a, b, c: n64(...cShape) },
      build: (g, v) => ops.gemm(g, v['a'] as Value, v['b'] as Value, v['c'] ?? null, { transA, transB, alpha: 0.7, beta: 1.3 }),
    });
  }
});

test('MatMul, 2-d, batched [2, 3, 4] x [4, 5] and per-matrix [2, 3, 4] x [2, 4, 5]', async () => {
  await check('MatMul 2d', { dtype: 'float64', inputs: { a: n64(3, 4), b: n64(4, 5) }, build: (g, v) => ops.matMul(g, v['a'] as Value, v['b'] as Value) });
  await check('MatMul 3d', { dtype: 'float64', inputs: { a: n64(2, 3, 4), b: n64(4, 5) }, build: (g, v) => ops.matMul(g, v['a'] as Value, v['b'] as Value) });
  await check('MatMul 3d x 3d', { dtype: 'float64', inputs: { a: n64(2, 3, 4), b: n64(2, 4, 5) }, build: (g, v) => ops.matMul(g, v['a'] as Value, v['b'] as Value) });
});

test('broadcasting arithmetic: Add, Sub, Mul, Div, Sum', async () => {
  await check('Add', { dtype: 'float64', inputs: { a: n64(2, 3, 4), b: n64(3, 1) }, build: (g, v) => ops.add(g, v['a'] as Value, v['b'] as Value) });
  await check('Sub', { dtype: 'float64', inputs: { a: n64(3, 1), b: n64(2, 1, 4) }, build: (g, v) => ops.sub(g, v['a'] as Value, v['b'] as Value) });
  await check('Mul', { dtype: 'float64', inputs: { a: n64(2, 3), b: n64(3) }, build: (g, v) => ops.mul(g, v['a'] as Value, v['b'] as Value) });
  await check('Div', { dtype: 'float64', inputs: { a: n64(2, 3), b: positive(2, 1) }, build: (g, v) => ops.div(g, v['a'] as Value, v['b'] as Value) });
  await check('Sum', { dtype: 'float64', inputs: { a: n64(2, 3), b: n64(3), c: n64(2, 3) },
    build: (g, v) => ops.sum(g, [v['a'] as Value, v['b'] as Value, v['c'] as Value]) });
});

test('unary ops: Neg, Relu, Sigmoid, Tanh, Exp, Log, Sqrt', async () => {
  await check('Neg', { dtype: 'float64', inputs: { x: n64(2, 3) }, build: (g, v) => ops.neg(g, v['x'] as Value) });
  await check('Relu', { dtype: 'float64', step: 1e-3, inputs: { x: offZero(3, 4) }, build: (g, v) => ops.relu(g, v['x'] as Value) });
  await check('Sigmoid', { dtype: 'float64', inputs: { x: n64(3, 4) }, build: (g, v) => ops.sigmoid(g, v['x'] as Value) });
  await check('Tanh', { dtype: 'float64', inputs: { x: n64(3, 4) }, build: (g, v) => ops.tanh(g, v['x'] as Value) });
  await check('Exp', { dtype: 'float64', inputs: { x: n64(3, 4) }, build: (g, v) => ops.exp(g, v['x'] as Value) });
  await check('Log', { dtype: 'float64', inputs: { x: positive(3, 4) }, build: (g, v) => ops.log(g, v['x'] as Value) });
  await check('Sqrt', { dtype: 'float64', inputs: { x: positive(3, 4) }, build: (g, v) => ops.sqrt(g, v['x'] as Value) });
});

test('Softmax and LogSoftmax over inner and last axes', async () => {
  await check('Softmax', { dtype: 'float64', inputs: { x: n64(3, 4) }, build: (g, v) => ops.softmax(g, v['x'] as Value, 1) });
  await check('Softmax axis 1 of 3', { dtype: 'float64', inputs: { x: n64(2, 3, 4) }, build: (g, v) => ops.softmax(g, v['x'] as Value, 1) });
  await check('LogSoftmax', { dtype: 'float64', inputs: { x: n64(2, 3, 4) }, build: (g, v) => ops.logSoftmax(g, v['x'] as Value, -1) });
});

test('ReduceSum and ReduceMean, with and without keepdims, and a mean over a symbolic batch', async () => {
  await check('ReduceSum', { dtype: 'float64', inputs: { x: n64(2, 3, 4) }, build: (g, v) => ops.reduceSum(g, v['x'] as Value, [1]) });
  await check('ReduceSum keepdims', { dtype: 'float64', inputs: { x: n64(2, 3, 4) }, build: (g, v) => ops.reduceSum(g, v['x'] as Value, [0, 2], true) });
  await check('ReduceMean', { dtype: 'float64', inputs: { x: n64(2, 3, 4) }, build: (g, v) => ops.reduceMean(g, v['x'] as Value, [0, 2]) });
  await check('ReduceMean batch', { dtype: 'float64', inputs: { x: n64(5, 3) }, declaredShapes: { x: ['batch', 3] },
    build: (g, v) => ops.reduceMean(g, v['x'] as Value, [0]) });
});

test('Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Identity and Cast', async () => {
  await check('Reshape', { dtype: 'float64', inputs: { x: n64(2, 3, 4) }, build: (g, v) => ops.reshape(g, v['x'] as Value, [4, -1]) });
  await check('Reshape symbolic', { dtype: 'float64', inputs: { x: n64(2, 3, 4) }, declaredShapes: { x: ['batch', 3, 4] },
    build: (g, v) => ops.reduceSum(g, ops.reshape(g, v['x'] as Value, [-1, 4]), [0]) });
  await check('Flatten', { dtype: 'float64', inputs: { x: n64(2, 3, 4) }, build: (g, v) => ops.flatten(g, v['x'] as Value, 2) });
  await check('Squeeze', { dtype: 'float64', inputs: { x: n64(2, 1, 3) }, build: (g, v) => ops.squeeze(g, v['x'] as Value, [1]) });
  await check('Unsqueeze', { dtype: 'float64', inputs: { x: n64(2, 3) }, build: (g, v) => ops.unsqueeze(g, v['x'] as Value, [0, 3]) });
  await check('Transpose', { dtype: 'float64', inputs: { x: n64(2, 3, 4) }, build: (g, v) => ops.transpose(g, v['x'] as Value, [2, 0, 1]) });
  await check('Identity', { dtype: 'float64', inputs: { x: n64(2, 3) },
    build: (g, v) => g.op('Identity', [v['x'] as Value], { dtype: 'float64', shape: [2, 3] }) });
  // float64 -> float32 rounds, so the step is large enough (and Cast linear enough) to make rounding negligible.
  await check('Cast', { dtype: 'float64', step: 0.5, inputs: { x: n64(2, 3) }, build: (g, v) => ops.cast(g, v['x'] as Value, 'float32') }, 1e-6);
});

test('Concat, Split (one output unused), Slice and Pad', async () => {
  await check('Concat', { dtype: 'float64', inputs: { a: n64(2, 3), b: n64(2, 1) }, build: (g, v) => ops.concat(g, [v['a'] as Value, v['b'] as Value], 1) });
  await check('Split', { dtype: 'float64', inputs: { x: n64(2, 6) }, build: (g, v) => {
    const [p0, , p2] = ops.split(g, v['x'] as Value, 1, [1, 2, 3]) as [Value, Value, Value];
    return ops.concat(g, [p0, p2], 1);
  } });
  await check('Slice', { dtype: 'float64', inputs: { x: n64(3, 6) },
    build: (g, v) => ops.slice(g, v['x'] as Value, [{ axis: 1, start: 1, end: 5 }, { axis: 0, start: -2, end: 3 }]) });
  await check('Pad', { dtype: 'float64', inputs: { x: n64(2, 3) }, build: (g, v) => ops.pad(g, v['x'] as Value, [1, 0, 0, 2]) });
});

test('Gather on axis 0 (embedding, repeated indices) and axis 1', async () => {
  await check('Gather axis 0', { dtype: 'float64', inputs: { t: n64(5, 3) }, fixed: { i: indices([0, 1, 1, 4, 0, 0], [2, 3]) },
    build: (g, v) => ops.gather(g, v['t'] as Value, v['i'] as Value) });
  await check('Gather axis 1', { dtype: 'float64', inputs: { t: n64(2, 5, 3) }, fixed: { i: indices([4, 1, 4, 2], [4]) },
    build: (g, v) => ops.gather(g, v['t'] as Value, v['i'] as Value, 1) });
});

test('Expand (broadcast to another value\'s shape)', async () => {
  await check('Expand', { dtype: 'float64', inputs: { x: n64(3, 1) }, fixed: { like: n64(2, 3, 4) },
    build: (g, v) => ops.expandLike(g, v['x'] as Value, v['like'] as Value) });
});

test('composites: softmax cross-entropy, mean squared error, and an LSTM unrolled over 3 steps', async () => {
  await check('softmax cross-entropy', { dtype: 'float64', inputs: { logits: n64(4, 5) }, fixed: { labels: indices([0, 4, 2, 2], [4]) },
    build: (g, v) => softmaxCrossEntropy(g, v['logits'] as Value, v['labels'] as Value) });
  await check('mean squared error', { dtype: 'float64', inputs: { p: n64(4, 2), t: n64(4, 2) },
    build: (g, v) => meanSquaredError(g, v['p'] as Value, v['t'] as Value) });
  const hidden = 3;
  await check('LSTM x3', {
    dtype: 'float64',
    inputs: { x: n64(2, 3, 2), wi: n64(4 * hidden, 2), wh: n64(4 * hidden, hidden), b: n64(4 * hidden) },
    build: (g, v) => {
      const context = { g, inputs: v, params: { 'l.weight_ih': v['wi'] as Value, 'l.weight_hh': v['wh'] as Value, 'l.bias': v['b'] as Value }, dropout: (x: Value) => x };
      let state;
      for (let t = 0; t < 3; t++) {
        const xt = ops.squeeze(g, ops.slice(g, v['x'] as Value, [{ axis: 1, start: t, end: t + 1 }]), [1]);
        state = lstmCell(context, 'l', xt, hidden, state);
      }
      return (state as { h: Value }).h;
    },
  });
});

test('every op with a gradient rule was checked above', () => {
  const missing = differentiableOps.filter((op) => !covered.has(op));
  assert.deepEqual(missing, [], `gradient rules without a finite-difference check: ${missing.join(', ')}`);
});
