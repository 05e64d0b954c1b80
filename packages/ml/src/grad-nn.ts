// Gradient rules of Conv, MaxPool, Gemm, MatMul, Softmax and LogSoftmax. The backward ops are the ones measured
// fastest in onnxruntime: Conv's input gradient is a Conv with flipped (Slice, step -1), transposed weights
// (ConvTranspose only for strides > 1); its weight gradient one Gemm over an unfolded input (Gather with an index
// table). A conv over rows of a small table (CharCNN's one-hot characters) is better written as tableConv1d,
// whose lookups differentiate to scatter-adds. MaxPool routes gradients with MaxUnpool through the indices of
// the picked elements (ScatterElements-add when windows overlap), masking for a ReLU just before it; for disjoint
// windows the indices come from an ArgMax here rather than from MaxPool's own, slow, Indices output.
import { staticDim, type Dim } from './dims.js';
import { MlError } from './errors.js';
import { firstGrad, inputOf, markReluMasked, outputOf, reluMask, unbroadcast, type GradRule } from './grad-rule.js';
import { attr, type GraphBuilder, type NodeRecord, type Value } from './graph.js';
import { add, exp, mul, sub } from './ops-elementwise.js';
import {
  conv1d, convTranspose1d, gemm, matMul, maxPoolIndicesFromArgMax, maxUnpool, scatterElementsAdd, type Conv1dOptions,
} from './ops-nn.js';
import { reduceSum } from './ops-reduce.js';
import { gather, pad, reshape, reshapeLike, shapeOf, slice, squeeze, transpose, zerosLike } from './ops-shape.js';

function ints(node: NodeRecord, name: string): readonly number[] {
  const value = node.attrs[name];
  if (value?.kind !== 'ints') throw new MlError('NO_GRADIENT', `${node.opType} ${node.name} lacks attribute ${name}`);
  return value.value;
}

function int(node: NodeRecord, name: string, fallback: number): number {
  const value = node.attrs[name];
  return value?.kind === 'int' ? value.value : fallback;
}

function float(node: NodeRecord, name: string, fallback: number): number {
  const value = node.attrs[name];
  return value?.kind === 'float' ? value.value : fallback;
}

function convOptions(node: NodeRecord): Required<Conv1dOptions> {
  const [begin = 0, end = 0] = ints(node, 'pads');
  return { pads: [begin, end], stride: ints(node, 'strides')[0] ?? 1, dilation: ints(node, 'dilations')[0] ?? 1 };
}

/** dL/dx of a 1-D conv. For stride 1 it is a full correlation of dy with the flipped, transposed kernel. */
function convInputGrad(g: GraphBuilder, dy: Value, w: Value, length: number, options: Required<Conv1dOptions>): Value {
  if (options.stride !== 1) return convTranspose1d(g, dy, w, length, options);
  const kernel = staticDim(w.shape[2], 'Conv kernel');
  // The flip is a Slice with step -1: a Gather along the last axis copies one element at a time (~4x slower).
  const reversed = g.op('Slice', [w, g.int64s([-1]), g.int64s([-(kernel + 1)]), g.int64s([2]), g.int64s([-1])], {
    dtype: w.dtype, shape: w.shape,
  });
  const flipped = transpose(g, reversed, [1, 0, 2]);
  const reach = options.dilation * (kernel - 1);
  const [begin, end] = [reach - options.pads[0], reach - options.pads[1]];
  const full = conv1d(g, dy, flipped, null, { pads: [Math.max(begin, 0), Math.max(end, 0)], dilation: options.dilation });
  if (begin >= 0 && end >= 0) return full;
  // Padding wider than the kernel's reach: positions that only ever saw padding are cut off again.
  const start = Math.max(-begin, 0);
  return slice(g, full, [{ axis: 2, start, end: start + length }]);
}

/**
 * dL/dw of a 1-D conv as one Gemm: unfold x into [N*L', K*C] rows (a Gather with a [L', K] index table on the
 * time-major input, so the large unfolded tensor needs no transpose), then dw[O, K*C] = dy[O, N*L'] @ rows.
 */
function convWeightGrad(g: GraphBuilder, x: Value, dy: Value, w: Value, options: Required<Conv1dOptions>): Value {
  const [o, c, k] = w.shape.map((dim) => staticDim(dim, 'Conv weight')) as [number, number, number];
  const outLength = staticDim(dy.shape[2], 'Conv output length');
  let timeMajor = transpose(g, x, [0, 2, 1]);
  if (options.pads[0] > 0 || options.pads[1] > 0) timeMajor = pad(g, timeMajor, [0, options.pads[0], 0, 0, options.pads[1], 0]);
  const table = new BigInt64Array(outLength * k);
  for (let t = 0; t < outLength; t++) {
    for (let j = 0; j < k; j++) table[t * k + j] = BigInt(t * options.stride + j * options.dilation);
  }
  const index = g.constant({ dtype: 'int64', shape: [outLength, k], data: table }, 'unfold');
  const rows = reshape(g, gather(g, timeMajor, index, 1), [-1, k * c]);
  // dy as [O, N*L'] costs one transpose of dy either way, and a plain Gemm ran ~30% faster than a transA one.
  const dyByChannel = reshape(g, transpose(g, dy, [1, 0, 2]), [o, -1]);
  const dwKc = gemm(g, dyByChannel, rows, null);
  return transpose(g, reshape(g, dwKc, [o, k, c]), [0, 2, 1]);
}

interface PoolWindows {
  readonly kernel: number;
  readonly stride: number;
  readonly pads: readonly number[];
}

function maxPoolGrad(g: GraphBuilder, node: NodeRecord, pooledGrad: Value): Value {
  const x = inputOf(node, 0);
  const kernel = ints(node, 'kernel_shape')[0] ?? 1;
  const windows: PoolWindows = { kernel, stride: ints(node, 'strides')[0] ?? kernel, pads: ints(node, 'pads') };
  const pooled = outputOf(node, 0);
  const indices = node.outputs[1] ?? (g.training && maxPoolIndicesFromArgMax(x, windows.kernel, windows.stride, windows.pads)
    ? windowMaxIndices(g, x, kernel, staticDim(pooled.shape[2], 'MaxPool output length'))
    : undefined);
  if (indices === undefined) {
    throw new MlError('NO_GRADIENT', `MaxPool ${node.name} was built without Indices (an inference graph): no gradient`);
  }
  // MaxPool over a ReLU (conv -> relu -> pool): the ReLU's mask is applied here, on the pooled values, instead
  // of on the 'kernel' times larger input. Each routed gradient lands where x equals the pooled value, so
  // x > 0 there exactly when the pooled value is > 0: the result is bit-identical, and the ReLU rule skips its mask.
  const afterRelu = g.producer(x)?.opType === 'Relu';
  const dy = afterRelu ? reluMask(g, pooled, pooledGrad) : pooledGrad;
  const dx = routeMaxPoolGrad(g, windows, x, indices, dy);
  if (afterRelu) markReluMasked(dx, x);
  return dx;
}

/**
 * The flat input index of each window's maximum, as MaxPool's Indices output holds it, for disjoint windows
 * without padding: ArgMax over [N, C, P, kernel] (the first maximum, as MaxPool picks, so ties route the same
 * way) plus each window's offset in the flattened input, n*C*L + c*L + p*kernel.
 */
function windowMaxIndices(g: GraphBuilder, x: Value, kernel: number, pooled: number): Value {
  const batch = x.shape[0] as Dim;
  const [channels, length] = [staticDim(x.shape[1], 'MaxPool channels'), staticDim(x.shape[2], 'MaxPool length')];
  const covered = pooled * kernel < length ? slice(g, x, [{ axis: 2, start: 0, end: pooled * kernel }]) : x;
  const windows = reshape(g, covered, [0, 0, pooled, kernel]);
  const within = g.op('ArgMax', [windows], { dtype: 'int64', shape: [batch, channels, pooled] }, {
    axis: attr.int(3),
    keepdims: attr.int(0),
  });
  const rows = squeeze(g, slice(g, shapeOf(g, x), [{ axis: 0, start: 0, end: 1 }]), [0]);
  const n = g.op('Range', [g.scalar(0, 'int64'), rows, g.scalar(1, 'int64')], { dtype: 'int64', shape: [batch] });
  const batchOffsets = reshape(g, mul(g, n, g.scalar(channels * length, 'int64')), [-1, 1, 1]);
  const offsets = new BigInt64Array(channels * pooled);
  for (let c = 0; c < channels; c++) for (let p = 0; p < pooled; p++) offsets[c * pooled + p] = BigInt(c * length + p * kernel);
  const windowOffsets = g.constant({ dtype: 'int64', shape: [channels, pooled], data: offsets }, 'window_offsets');
  return add(g, add(g, batchOffsets, windowOffsets), within);
}

function routeMaxPoolGrad(g: GraphBuilder, { kernel, stride, pads }: PoolWindows, x: Value, indices: Value, dy: Value): Value {
  // Disjoint windows: every input position is picked at most once, so MaxUnpool's plain write is exact.
  if (stride >= kernel) return maxUnpool(g, dy, indices, x, { kernel, stride, pads });
  // Overlapping windows may pick one position twice: the contributions must add up.
  const flatX = reshape(g, x, [-1]);
  const summed = scatterElementsAdd(g, zerosLike(g, flatX), reshape(g, indices, [-1]), reshape(g, dy, [-1]), 0);
  return reshapeLike(g, summed, x);
}

export const nnGradients: Record<string, GradRule> = {
  Conv: (g, node, dys, wants) => {
    const dy = firstGrad(node, dys);
    const [x, w] = [inputOf(node, 0), inputOf(node, 1)];
    const options = convOptions(node);
    return [
      wants[0] ? convInputGrad(g, dy, w, staticDim(x.shape[2], 'Conv length'), options) : undefined,
      wants[1] ? convWeightGrad(g, x, dy, w, options) : undefined,
      wants[2] ? reduceSum(g, dy, [0, 2]) : undefined,
    ];
  },
  MaxPool: (g, node, dys) => [maxPoolGrad(g, node, firstGrad(node, dys))],
  Gemm: (g, node, dys, wants) => {
    const dy = firstGrad(node, dys);
    const [a, b] = [inputOf(node, 0), inputOf(node, 1)];
    const c = node.inputs[2] ?? null;
    const transA = int(node, 'transA', 0) === 1;
    const transB = int(node, 'transB', 0) === 1;
    const alpha = float(node, 'alpha', 1);
    const beta = float(node, 'beta', 1);
    // Y = alpha op(A) op(B) + beta C; each case below is the matching product with dY, written as one Gemm.
    const dA = !wants[0] ? undefined : transA
      ? gemm(g, b, dy, null, { transA: transB, transB: true, alpha })
      : gemm(g, dy, b, null, { transB: !transB, alpha });
    const dB = !wants[1] ? undefined : transB
      ? gemm(g, dy, a, null, { transA: true, transB: transA, alpha })
      : gemm(g, a, dy, null, { transA: !transA, alpha });
    // ONNX stores beta as a float32 attribute; scale by that same value, not the double it was written from.
    const scaled = beta === 1 ? dy : mul(g, dy, g.scalar(Math.fround(beta), dy.dtype));
    const dC = wants[2] && c !== null ? unbroadcast(g, scaled, c) : undefined;
    return [dA, dB, dC];
  },
  MatMul: (g, node, dys, wants) => {
    const dy = firstGrad(node, dys);
    const [a, b] = [inputOf(node, 0), inputOf(node, 1)];
    if (b.rank > 2) {
      // One product per matrix (matMul checked that the leading dims match): dA = dY B^T, dB = A^T dY, per matrix.
      const swapLast = (x: Value): Value => transpose(g, x, [...Array.from({ length: x.rank - 2 }, (_, i) => i), x.rank - 1, x.rank - 2]);
      return [wants[0] ? matMul(g, dy, swapLast(b)) : undefined, wants[1] ? matMul(g, swapLast(a), dy) : undefined];
    }
    const [k, n] = b.shape as [Dim, Dim];
    const dA = !wants[0] ? undefined : a.rank === 2
      ? gemm(g, dy, b, null, { transB: true })
      : matMul(g, dy, transpose(g, b, [1, 0]));
    const dB = !wants[1] ? undefined : a.rank === 2
      ? gemm(g, a, dy, null, { transA: true })
      : gemm(g, reshape(g, a, [-1, staticDim(k, 'MatMul K')]), reshape(g, dy, [-1, staticDim(n, 'MatMul N')]), null, { transA: true });
    return [dA, dB];
  },
  Softmax: (g, node, dys) => {
    const dy = firstGrad(node, dys);
    const y = outputOf(node, 0);
    const axis = int(node, 'axis', -1);
    return [mul(g, y, sub(g, dy, reduceSum(g, mul(g, dy, y), [axis], true)))];
  },
  LogSoftmax: (g, node, dys) => {
    const dy = firstGrad(node, dys);
    const y = outputOf(node, 0);
    const axis = int(node, 'axis', -1);
    // softmax = exp(log-softmax) is in (0, 1]: no overflow however large the logits.
    return [sub(g, dy, mul(g, exp(g, y), reduceSum(g, dy, [axis], true)))];
  },
};
