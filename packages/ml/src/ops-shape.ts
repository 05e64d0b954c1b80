// Shape and data-movement ops: Reshape, Flatten, (Un)Squeeze, Transpose, Concat, Split, Slice, Gather, Pad,
// Expand, Shape, Size and ConstantOfShape, each inferring its output shape (symbolic batch dims included).
import { divDims, isStatic, normalizeAxis, product, staticDim, formatShape, type Dim } from './dims.js';
import { MlError } from './errors.js';
import { attr, type GraphBuilder, type Value } from './graph.js';
import { allocate, type DType } from './dtype.js';

/** Reshape with ONNX semantics: 0 copies the input dim, -1 is inferred (symbolic products are divided out). */
export function reshape(g: GraphBuilder, x: Value, target: readonly number[]): Value {
  const dims: (Dim | undefined)[] = target.map((dim, i) => {
    if (dim === 0) return x.shape[i];
    return dim === -1 ? undefined : dim;
  });
  const unknown = dims.findIndex((dim) => dim === undefined);
  if (dims.filter((dim) => dim === undefined).length > 1) {
    throw new MlError('SHAPE_MISMATCH', `Reshape: at most one -1 in ${formatShape(target)}`);
  }
  if (unknown >= 0) {
    const known = product(dims.filter((dim): dim is Dim => dim !== undefined));
    const inferred = divDims(product(x.shape), known);
    if (inferred === undefined) {
      throw new MlError('SHAPE_MISMATCH', `Reshape: cannot infer -1 of ${formatShape(target)} from ${x}`);
    }
    dims[unknown] = inferred;
  }
  const shape = dims as Dim[];
  const before = product(x.shape);
  const after = product(shape);
  if (typeof before === 'number' && typeof after === 'number' && before !== after) {
    throw new MlError('SHAPE_MISMATCH', `Reshape: ${x} has ${before} elements, ${formatShape(shape)} has ${after}`);
  }
  return g.op('Reshape', [x, g.int64s(target)], { dtype: x.dtype, shape });
}

/** Reshape to another value's shape: a constant when that shape is static, a Shape node otherwise. */
export function reshapeLike(g: GraphBuilder, x: Value, like: Value): Value {
  const target = isStatic(like.shape) ? g.int64s(like.shape) : shapeOf(g, like);
  return g.op('Reshape', [x, target], { dtype: x.dtype, shape: like.shape });
}

export function flatten(g: GraphBuilder, x: Value, axis = 1): Value {
  const at = axis === x.rank ? axis : normalizeAxis(axis, x.rank, 'Flatten');
  const shape = [product(x.shape.slice(0, at)), product(x.shape.slice(at))];
  return g.op('Flatten', [x], { dtype: x.dtype, shape }, { axis: attr.int(at) });
}

export function squeeze(g: GraphBuilder, x: Value, axes: readonly number[]): Value {
  const drop = axes.map((axis) => normalizeAxis(axis, x.rank, 'Squeeze'));
  for (const axis of drop) {
    if (x.shape[axis] !== 1) throw new MlError('SHAPE_MISMATCH', `Squeeze: axis ${axis} of ${x} is not 1`);
  }
  const shape = x.shape.filter((_, i) => !drop.includes(i));
  return g.op('Squeeze', [x, g.int64s(drop)], { dtype: x.dtype, shape });
}

export function unsqueeze(g: GraphBuilder, x: Value, axes: readonly number[]): Value {
  const rank = x.rank + axes.length;
  const added = axes.map((axis) => normalizeAxis(axis, rank, 'Unsqueeze')).sort((a, b) => a - b);
  const shape: Dim[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) {
    if (added.includes(i)) shape.push(1);
    else shape.push(x.shape[next++] ?? 1);
  }
  return g.op('Unsqueeze', [x, g.int64s(added)], { dtype: x.dtype, shape });
}

export function transpose(g: GraphBuilder, x: Value, perm: readonly number[]): Value {
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== x.rank || sorted.some((axis, i) => axis !== i)) {
    throw new MlError('SHAPE_MISMATCH', `Transpose: perm [${perm.join(', ')}] does not fit ${x}`);
  }
  const shape = perm.map((axis) => x.shape[axis] as Dim);
  return g.op('Transpose', [x], { dtype: x.dtype, shape }, { perm: attr.ints(perm) });
}

export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length).fill(0);
  perm.forEach((axis, i) => { inverse[axis] = i; });
  return inverse;
}

export function concat(g: GraphBuilder, xs: readonly Value[], axis: number): Value {
  const [first] = xs;
  if (first === undefined) throw new MlError('INVALID_ARGUMENT', 'Concat needs at least one input');
  const at = normalizeAxis(axis, first.rank, 'Concat');
  let total = 0;
  for (const x of xs) {
    if (x.rank !== first.rank || x.dtype !== first.dtype || x.shape.some((dim, i) => i !== at && dim !== first.shape[i])) {
      throw new MlError('SHAPE_MISMATCH', `Concat: ${x} does not fit ${first} along axis ${at}`);
    }
    // The concatenated axis must be static so the gradient can split it back.
    total += staticDim(x.shape[at], 'Concat axis');
  }
  const shape = first.shape.map((dim, i) => (i === at ? total : dim));
  return g.op('Concat', xs, { dtype: first.dtype, shape }, { axis: attr.int(at) });
}

export function split(g: GraphBuilder, x: Value, axis: number, sizes: readonly number[]): Value[] {
  const at = normalizeAxis(axis, x.rank, 'Split');
  const dim = staticDim(x.shape[at], 'Split axis');
  if (sizes.reduce((a, b) => a + b, 0) !== dim) {
    throw new MlError('SHAPE_MISMATCH', `Split: sizes [${sizes.join(', ')}] do not add up to ${dim} (${x})`);
  }
  const outputs = sizes.map((size) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === at ? size : d)) }));
  return g.addNode('Split', [x, g.int64s(sizes)], outputs, { axis: attr.int(at) });
}

export interface SliceSpec {
  readonly axis: number;
  readonly start: number;
  readonly end: number;
}

/** Slice with step 1 on axes whose dims are static; bounds are normalized (negatives count from the end). */
export function slice(g: GraphBuilder, x: Value, specs: readonly SliceSpec[]): Value {
  const shape = [...x.shape];
  const axes: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const spec of specs) {
    const axis = normalizeAxis(spec.axis, x.rank, 'Slice');
    const dim = staticDim(x.shape[axis], 'Slice axis');
    const clamp = (v: number): number => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
    const start = clamp(spec.start);
    const end = Math.max(start, clamp(spec.end));
    axes.push(axis);
    starts.push(start);
    ends.push(end);
    shape[axis] = end - start;
  }
  return g.op('Slice', [x, g.int64s(starts), g.int64s(ends), g.int64s(axes)], { dtype: x.dtype, shape });
}

/** Gather along `axis`; with a constant table of one-hot rows this is also the one-hot encoder. */
export function gather(g: GraphBuilder, data: Value, indices: Value, axis = 0): Value {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') {
    throw new MlError('SHAPE_MISMATCH', `Gather: indices ${indices} must be int32 or int64`);
  }
  const at = normalizeAxis(axis, data.rank, 'Gather');
  const shape = [...data.shape.slice(0, at), ...indices.shape, ...data.shape.slice(at + 1)];
  return g.op('Gather', [data, indices], { dtype: data.dtype, shape }, { axis: attr.int(at) });
}

/** Constant zero padding: `pads` holds begin values for every axis, then end values (ONNX order). */
export function pad(g: GraphBuilder, x: Value, pads: readonly number[]): Value {
  if (pads.length !== 2 * x.rank) throw new MlError('SHAPE_MISMATCH', `Pad: ${pads.length} pads for ${x}`);
  const shape = x.shape.map((dim, i) => {
    const extra = (pads[i] ?? 0) + (pads[i + x.rank] ?? 0);
    return extra === 0 ? dim : staticDim(dim, 'Pad axis') + extra;
  });
  return g.op('Pad', [x, g.int64s(pads)], { dtype: x.dtype, shape }, { mode: attr.string('constant') });
}

export function shapeOf(g: GraphBuilder, x: Value): Value {
  return g.op('Shape', [x], { dtype: 'int64', shape: [x.rank] });
}

export function sizeOf(g: GraphBuilder, x: Value): Value {
  return g.op('Size', [x], { dtype: 'int64', shape: [] });
}

/** Broadcast `x` to the shape of `like` (the inverse of summing a broadcast away). */
export function expandLike(g: GraphBuilder, x: Value, like: Value): Value {
  const target = isStatic(like.shape) ? g.int64s(like.shape) : shapeOf(g, like);
  return g.op('Expand', [x, target], { dtype: x.dtype, shape: like.shape });
}

export function zerosLike(g: GraphBuilder, like: Value, dtype: DType = like.dtype): Value {
  const value = allocate(dtype, 1);
  const fill = attr.tensor({ dtype, shape: [1], data: value });
  const target = isStatic(like.shape) ? g.int64s(like.shape) : shapeOf(g, like);
  return g.op('ConstantOfShape', [target], { dtype, shape: like.shape }, { value: fill });
}
