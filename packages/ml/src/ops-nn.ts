// Neural-network ops: 1-D Conv and MaxPool (with the Indices output backward passes need), Gemm, MatMul,
// Softmax and LogSoftmax, plus the scatter ops that backward passes of pooling and embeddings are built from.
import { broadcastShapes, staticDim, type Dim } from './dims.js';
import { MlError } from './errors.js';
import { attr, requireFloat, requireRank, requireSameDtype, type GraphBuilder, type Value } from './graph.js';
import { normalizeAxis } from './dims.js';

export interface Conv1dOptions {
  /** Zero padding before and after the sequence. */
  readonly pads?: readonly [number, number];
  readonly stride?: number;
  readonly dilation?: number;
}

export function conv1dLength(length: number, kernel: number, options: Conv1dOptions): number {
  const [begin, end] = options.pads ?? [0, 0];
  const span = (options.dilation ?? 1) * (kernel - 1) + 1;
  return Math.floor((length + begin + end - span) / (options.stride ?? 1)) + 1;
}

/** x [N, C, L] * w [O, C, K] (+ b [O]) -> [N, O, L'] */
export function conv1d(g: GraphBuilder, x: Value, w: Value, b: Value | null, options: Conv1dOptions = {}): Value {
  requireFloat(x, 'Conv');
  requireSameDtype(x, w, 'Conv');
  requireRank(x, 3, 'Conv input');
  requireRank(w, 3, 'Conv weight');
  const [n, c, l] = x.shape as [Dim, Dim, Dim];
  const [o, wc, k] = w.shape as [Dim, Dim, Dim];
  const channels = staticDim(c, 'Conv channels');
  if (channels !== wc) throw new MlError('SHAPE_MISMATCH', `Conv: ${x} has ${channels} channels, weight ${w} wants ${String(wc)}`);
  const kernel = staticDim(k, 'Conv kernel');
  if (b !== null && (b.rank !== 1 || b.shape[0] !== o)) throw new MlError('SHAPE_MISMATCH', `Conv: bias ${b} does not fit ${w}`);
  const length = conv1dLength(staticDim(l, 'Conv length'), kernel, options);
  if (length < 1) throw new MlError('SHAPE_MISMATCH', `Conv: ${x} is too short for kernel ${kernel}`);
  return g.op('Conv', b === null ? [x, w] : [x, w, b], { dtype: x.dtype, shape: [n, o, length] }, {
    kernel_shape: attr.ints([kernel]),
    pads: attr.ints(options.pads ?? [0, 0]),
    strides: attr.ints([options.stride ?? 1]),
    dilations: attr.ints([options.dilation ?? 1]),
    group: attr.int(1),
  });
}

/** The adjoint of conv1d in its input: dy [N, O, L'] and w [O, C, K] -> [N, C, length]. */
export function convTranspose1d(g: GraphBuilder, dy: Value, w: Value, length: number, options: Conv1dOptions): Value {
  const [n, , outLength] = dy.shape as [Dim, Dim, Dim];
  const [, c, k] = w.shape as [Dim, Dim, Dim];
  const kernel = staticDim(k, 'ConvTranspose kernel');
  const stride = options.stride ?? 1;
  const dilation = options.dilation ?? 1;
  const [begin, end] = options.pads ?? [0, 0];
  const natural = stride * (staticDim(outLength, 'ConvTranspose length') - 1) + dilation * (kernel - 1) + 1 - begin - end;
  return g.op('ConvTranspose', [dy, w], { dtype: dy.dtype, shape: [n, c, length] }, {
    kernel_shape: attr.ints([kernel]),
    pads: attr.ints([begin, end]),
    strides: attr.ints([stride]),
    dilations: attr.ints([dilation]),
    output_padding: attr.ints([length - natural]),
    group: attr.int(1),
  });
}

export interface MaxPool1dOptions {
  readonly kernel: number;
  /** Defaults to the kernel (non-overlapping windows, as in CharCNN). */
  readonly stride?: number;
  readonly pads?: readonly [number, number];
}

/**
 * Whether a MaxPool's backward pass finds the picked elements itself, with ArgMax over each window: disjoint
 * windows without padding over static channels and length (CharCNN's pools). onnxruntime's MaxPool takes ~6x
 * as long when it also returns Indices (~40 ms vs ~6 ms on CharCNN-small's first pool at batch 32).
 */
export function maxPoolIndicesFromArgMax(x: Value, kernel: number, stride: number, pads: readonly number[]): boolean {
  return stride === kernel && pads.every((pad) => pad === 0) && typeof x.shape[1] === 'number' && typeof x.shape[2] === 'number';
}

/**
 * Max pooling over the last axis. Training graphs also emit MaxPool's Indices output unless the backward pass
 * can find them (maxPoolIndicesFromArgMax): it routes each gradient to exactly the element the forward pass
 * picked, which stays exact when windows tie.
 */
export function maxPool1d(g: GraphBuilder, x: Value, options: MaxPool1dOptions): Value {
  requireFloat(x, 'MaxPool');
  requireRank(x, 3, 'MaxPool input');
  const [n, c, l] = x.shape as [Dim, Dim, Dim];
  const stride = options.stride ?? options.kernel;
  const [begin, end] = options.pads ?? [0, 0];
  const length = Math.floor((staticDim(l, 'MaxPool length') + begin + end - options.kernel) / stride) + 1;
  if (length < 1) throw new MlError('SHAPE_MISMATCH', `MaxPool: ${x} is shorter than kernel ${options.kernel}`);
  const shape = [n, c, length];
  const withIndices = g.training && !maxPoolIndicesFromArgMax(x, options.kernel, stride, [begin, end]);
  const outputs = withIndices ? [{ dtype: x.dtype, shape }, { dtype: 'int64' as const, shape }] : [{ dtype: x.dtype, shape }];
  const [y] = g.addNode('MaxPool', [x], outputs, {
    kernel_shape: attr.ints([options.kernel]),
    strides: attr.ints([stride]),
    pads: attr.ints([begin, end]),
  });
  if (y === undefined) throw new MlError('INVALID_ARGUMENT', 'MaxPool produced no output');
  return y;
}

/** Writes `values` at the flat `indices` MaxPool reported, into a tensor shaped like `like` (zeros elsewhere). */
export function maxUnpool(g: GraphBuilder, values: Value, indices: Value, like: Value, attrs: {
  kernel: number; stride: number; pads: readonly number[];
}): Value {
  const shape = g.op('Shape', [like], { dtype: 'int64', shape: [like.rank] });
  return g.op('MaxUnpool', [values, indices, shape], { dtype: values.dtype, shape: like.shape }, {
    kernel_shape: attr.ints([attrs.kernel]),
    strides: attr.ints([attrs.stride]),
    pads: attr.ints(attrs.pads),
  });
}

/** data with `updates` added at `indices` along `axis` (duplicates accumulate). */
export function scatterElementsAdd(g: GraphBuilder, data: Value, indices: Value, updates: Value, axis: number): Value {
  return g.op('ScatterElements', [data, indices, updates], { dtype: data.dtype, shape: data.shape }, {
    axis: attr.int(axis),
    reduction: attr.string('add'),
  });
}

/** data with slices of `updates` added at the index tuples in `indices` [..., k] (duplicates accumulate). */
export function scatterNdAdd(g: GraphBuilder, data: Value, indices: Value, updates: Value): Value {
  return g.op('ScatterND', [data, indices, updates], { dtype: data.dtype, shape: data.shape }, {
    reduction: attr.string('add'),
  });
}

export interface GemmOptions {
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
}

/** alpha * op(a) @ op(b) + beta * c, with a and b 2-d and c broadcast to [M, N]. */
export function gemm(g: GraphBuilder, a: Value, b: Value, c: Value | null, options: GemmOptions = {}): Value {
  requireFloat(a, 'Gemm');
  requireSameDtype(a, b, 'Gemm');
  requireRank(a, 2, 'Gemm A');
  requireRank(b, 2, 'Gemm B');
  const [a0, a1] = a.shape as [Dim, Dim];
  const [b0, b1] = b.shape as [Dim, Dim];
  const [m, ka] = options.transA === true ? [a1, a0] : [a0, a1];
  const [kb, n] = options.transB === true ? [b1, b0] : [b0, b1];
  if (ka !== kb && typeof ka === 'number' && typeof kb === 'number') {
    throw new MlError('SHAPE_MISMATCH', `Gemm: inner dims ${ka} and ${kb} differ (${a}, ${b})`);
  }
  if (c !== null) {
    requireSameDtype(a, c, 'Gemm C');
    broadcastShapes([m, n], c.shape, 'Gemm C');
  }
  return g.op('Gemm', c === null ? [a, b] : [a, b, c], { dtype: a.dtype, shape: [m, n] }, {
    transA: attr.int(options.transA === true ? 1 : 0),
    transB: attr.int(options.transB === true ? 1 : 0),
    alpha: attr.float(options.alpha ?? 1),
    beta: attr.float(options.beta ?? 1),
  });
}

/**
 * a [..., M, K] @ b [K, N] -> [..., M, N] (b a 2-d weight, what MLPs and unrolled LSTMs need), or one product
 * per matrix, a [..., M, K] @ b [..., K, N] with the same leading dims (many small models side by side, each
 * with its own weights).
 */
export function matMul(g: GraphBuilder, a: Value, b: Value): Value {
  requireFloat(a, 'MatMul');
  requireSameDtype(a, b, 'MatMul');
  if (a.rank < 2) throw new MlError('SHAPE_MISMATCH', `MatMul: ${a} must have rank 2 or more`);
  if (b.rank !== 2) {
    // Leading dims must match exactly: the gradient rule has no broadcast of b's batch dims to undo.
    const leading = a.shape.slice(0, -2);
    if (b.rank !== a.rank || b.shape.slice(0, -2).some((dim, i) => dim !== leading[i])) {
      throw new MlError('SHAPE_MISMATCH', `MatMul: ${b} must be 2-d or have the leading dims of ${a}`);
    }
  }
  const k = a.shape[a.rank - 1] as Dim;
  const [kb, n] = b.shape.slice(-2) as [Dim, Dim];
  if (k !== kb && typeof k === 'number' && typeof kb === 'number') {
    throw new MlError('SHAPE_MISMATCH', `MatMul: inner dims ${k} and ${kb} differ (${a}, ${b})`);
  }
  return g.op('MatMul', [a, b], { dtype: a.dtype, shape: [...a.shape.slice(0, -1), n] });
}

export function softmax(g: GraphBuilder, x: Value, axis = -1): Value {
  requireFloat(x, 'Softmax');
  return g.op('Softmax', [x], { dtype: x.dtype, shape: x.shape }, { axis: attr.int(normalizeAxis(axis, x.rank, 'Softmax')) });
}

/** log(softmax(x)) computed as x - max - log(sum(exp(x - max))) by onnxruntime: stable for large logits. */
export function logSoftmax(g: GraphBuilder, x: Value, axis = -1): Value {
  requireFloat(x, 'LogSoftmax');
  return g.op('LogSoftmax', [x], { dtype: x.dtype, shape: x.shape }, { axis: attr.int(normalizeAxis(axis, x.rank, 'LogSoftmax')) });
}
