// Reductions over static axes (ReduceSum, ReduceMean) with opset-18 axes-as-input, and the element count a
// mean divides by, computed in the graph when a reduced dim is the symbolic batch.
import { normalizeAxis, product, type Dim } from './dims.js';
import { attr, requireFloat, type GraphBuilder, type Value } from './graph.js';
import { cast, div } from './ops-elementwise.js';
import { sizeOf } from './ops-shape.js';

function reduce(g: GraphBuilder, opType: string, x: Value, axes: readonly number[], keepdims: boolean): Value {
  requireFloat(x, opType);
  const at = [...new Set(axes.map((axis) => normalizeAxis(axis, x.rank, opType)))].sort((a, b) => a - b);
  const shape: Dim[] = [];
  x.shape.forEach((dim, i) => {
    if (!at.includes(i)) shape.push(dim);
    else if (keepdims) shape.push(1);
  });
  return g.op(opType, [x, g.int64s(at)], { dtype: x.dtype, shape }, { keepdims: attr.int(keepdims ? 1 : 0) });
}

export function reduceSum(g: GraphBuilder, x: Value, axes: readonly number[], keepdims = false): Value {
  return reduce(g, 'ReduceSum', x, axes, keepdims);
}

export function reduceMean(g: GraphBuilder, x: Value, axes: readonly number[], keepdims = false): Value {
  return reduce(g, 'ReduceMean', x, axes, keepdims);
}

/** How many elements of `x` fold into each element of `y` (a constant when static, else Size(x) / Size(y)). */
export function reductionCount(g: GraphBuilder, x: Value, y: Value): Value {
  const ratio = typeof product(x.shape) === 'number' && typeof product(y.shape) === 'number'
    ? (product(x.shape) as number) / (product(y.shape) as number)
    : undefined;
  if (ratio !== undefined) return g.scalar(ratio, x.dtype);
  return div(g, cast(g, sizeOf(g, x), x.dtype), cast(g, sizeOf(g, y), x.dtype));
}
