import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildModel, createSession, gradients, GraphBuilder, normalTensor, ops, relativeError, Rng, runSession, type TensorData,
} from '../src/index.js';

// tableConv1d must be the Conv it replaces: the same output and the same gradients for the weight and the bias
// as Conv1d over Transpose(Gather(table, indices)), with taps in pairs (small tables), one by one (a vocabulary
// too large for pair tables), with an even and an odd kernel, and with a table that is not one-hot.
interface Case {
  readonly vocabulary: number;
  readonly channels: number;
  readonly outputs: number;
  readonly kernel: number;
  readonly oneHot: boolean;
}

async function tableConvMatchesConv({ vocabulary, channels, outputs, kernel, oneHot }: Case): Promise<void> {
  const [batch, length] = [3, 19];
  const rng = new Rng(vocabulary, kernel);
  const tableData: TensorData = oneHot
    ? { dtype: 'float32', shape: [vocabulary, channels], data: Float32Array.from({ length: vocabulary * channels }, (_, i) => (Math.floor(i / channels) === (i % channels) + 1 ? 1 : 0)) }
    : normalTensor(rng, 'float32', [vocabulary, channels]);
  const feeds: Record<string, TensorData> = {
    // The first indices run through the table in order, index 0 (padding) included.
    indices: { dtype: 'int64', shape: [batch, length], data: BigInt64Array.from({ length: batch * length }, (_, i) => BigInt(i < vocabulary ? i : rng.int(vocabulary))) },
    upstream: normalTensor(rng, 'float32', [batch, outputs, length - kernel + 1]),
    w: normalTensor(rng, 'float32', [outputs, channels, kernel]),
    b: normalTensor(rng, 'float32', [outputs]),
  };
  const results: Record<string, TensorData>[] = [];
  for (const form of ['conv', 'table'] as const) {
    const g = new GraphBuilder();
    const indices = g.input('indices', 'int64', [batch, length]);
    const weight = g.param('w', [outputs, channels, kernel]);
    const bias = g.param('b', [outputs]);
    const table = g.constant(tableData, 'table');
    const y = form === 'table'
      ? ops.tableConv1d(g, table, indices, weight, bias)
      : ops.conv1d(g, ops.transpose(g, ops.gather(g, table, indices), [0, 2, 1]), weight, bias);
    const upstream = g.input('upstream', 'float32', y.shape);
    const loss = ops.reduceSum(g, ops.mul(g, ops.relu(g, y), upstream), [0, 1, 2]);
    const [dw, db] = gradients(g, loss, [weight, bias]) as [typeof loss, typeof loss];
    const { session } = await createSession(buildModel(g, { outputs: { y, dw, db } }), { threads: 1 });
    results.push(await runSession(session, feeds, ['y', 'dw', 'db']));
    await session.release();
  }
  const [conv, table] = results as [Record<string, TensorData>, Record<string, TensorData>];
  for (const name of ['y', 'dw', 'db']) {
    assert.deepEqual(table[name]?.shape, conv[name]?.shape, `${name} shape`);
    const error = relativeError(Array.from(table[name]?.data as Float32Array), Array.from(conv[name]?.data as Float32Array));
    assert.ok(error < 1e-5, `${name}: relative error ${error} (vocabulary ${vocabulary}, kernel ${kernel})`);
  }
}

test('tableConv1d equals Conv1d over gathered rows: output, weight and bias gradients', async () => {
  await tableConvMatchesConv({ vocabulary: 9, channels: 8, outputs: 6, kernel: 7, oneHot: true });
  await tableConvMatchesConv({ vocabulary: 9, channels: 8, outputs: 6, kernel: 4, oneHot: true });
  await tableConvMatchesConv({ vocabulary: 6, channels: 4, outputs: 5, kernel: 3, oneHot: false });
  // 600^2 x 24 values is past the pair-table limit: one lookup per tap.
  await tableConvMatchesConv({ vocabulary: 600, channels: 3, outputs: 24, kernel: 3, oneHot: false });
});

test('tableConv1d refuses what it cannot compute', () => {
  const g = new GraphBuilder();
  const table = g.constant({ dtype: 'float32', shape: [5, 4], data: new Float32Array(20) }, 'table');
  const w = g.param('w', [3, 4, 3]);
  assert.throws(() => ops.tableConv1d(g, table, g.input('short', 'int64', [2, 2]), w, null), /shorter than kernel 3/);
  assert.throws(() => ops.tableConv1d(g, table, g.input('floats', 'float32', [2, 8]), w, null), /must be int64/);
  assert.throws(() => ops.tableConv1d(g, table, g.input('i', 'int64', [2, 8]), g.param('w2', [3, 5, 3]), null), /does not take 4 channels/);
});
