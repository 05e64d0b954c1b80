// Element-wise ops with NumPy broadcasting: arithmetic, activations, comparisons, Where, Cast and the variadic
// Sum that autodiff uses to add up gradient contributions.
import { broadcastShapes, type Dim } from './dims.js';
import { MlError } from './errors.js';
import { requireFloat, requireSameDtype, type GraphBuilder, type Value } from './graph.js';
import { attr } from './graph.js';
import { onnxDataType, type DType } from './dtype.js';

function binary(g: GraphBuilder, opType: string, a: Value, b: Value): Value {
  const dtype = requireSameDtype(a, b, opType);
  return g.op(opType, [a, b], { dtype, shape: broadcastShapes(a.shape, b.shape, opType) });
}

function unary(g: GraphBuilder, opType: string, x: Value): Value {
  requireFloat(x, opType);
  return g.op(opType, [x], { dtype: x.dtype, shape: x.shape });
}

export const add = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Add', a, b);
export const sub = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Sub', a, b);
export const mul = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Mul', a, b);
export const div = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Div', a, b);
export const pow = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Pow', a, b);
export const min = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Min', a, b);
export const max = (g: GraphBuilder, a: Value, b: Value): Value => binary(g, 'Max', a, b);

export const neg = (g: GraphBuilder, x: Value): Value => unary(g, 'Neg', x);
export const relu = (g: GraphBuilder, x: Value): Value => unary(g, 'Relu', x);
export const sigmoid = (g: GraphBuilder, x: Value): Value => unary(g, 'Sigmoid', x);
export const tanh = (g: GraphBuilder, x: Value): Value => unary(g, 'Tanh', x);
export const exp = (g: GraphBuilder, x: Value): Value => unary(g, 'Exp', x);
export const log = (g: GraphBuilder, x: Value): Value => unary(g, 'Log', x);
export const sqrt = (g: GraphBuilder, x: Value): Value => unary(g, 'Sqrt', x);

export function greater(g: GraphBuilder, a: Value, b: Value): Value {
  requireSameDtype(a, b, 'Greater');
  return g.op('Greater', [a, b], { dtype: 'bool', shape: broadcastShapes(a.shape, b.shape, 'Greater') });
}

export function where(g: GraphBuilder, condition: Value, a: Value, b: Value): Value {
  if (condition.dtype !== 'bool') throw new MlError('SHAPE_MISMATCH', `Where: condition ${condition} must be bool`);
  const dtype = requireSameDtype(a, b, 'Where');
  const shape = broadcastShapes(broadcastShapes(condition.shape, a.shape, 'Where'), b.shape, 'Where');
  return g.op('Where', [condition, a, b], { dtype, shape });
}

export function cast(g: GraphBuilder, x: Value, dtype: DType): Value {
  if (x.dtype === dtype) return x;
  return g.op('Cast', [x], { dtype, shape: x.shape }, { to: attr.int(onnxDataType(dtype)) });
}

/** Variadic element-wise sum (one node however many terms, which keeps gradient accumulation cheap). */
export function sum(g: GraphBuilder, terms: readonly Value[]): Value {
  const [first, ...rest] = terms;
  if (first === undefined) throw new MlError('INVALID_ARGUMENT', 'Sum needs at least one term');
  if (rest.length === 0) return first;
  let shape: Dim[] = [...first.shape];
  for (const term of rest) {
    requireSameDtype(first, term, 'Sum');
    shape = broadcastShapes(shape, term.shape, 'Sum');
  }
  return g.op('Sum', terms, { dtype: first.dtype, shape });
}
