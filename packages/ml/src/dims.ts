// Tensor dimensions for shape inference: a number when known, or a symbolic product such as "batch" or
// "336*batch" when it depends on the batch size, so one graph serves any batch while every other dim is checked.
import { MlError } from './errors.js';

export type Dim = number | string;
export type Shape = readonly Dim[];

interface Symbolic { coef: number; syms: string[] }

function parse(dim: Dim): Symbolic {
  if (typeof dim === 'number') return { coef: dim, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const part of dim.split('*')) {
    if (/^\d+$/.test(part)) coef *= Number(part);
    else syms.push(part);
  }
  return { coef, syms: syms.sort() };
}

function format(value: Symbolic): Dim {
  if (value.syms.length === 0) return value.coef;
  const syms = value.syms.join('*');
  return value.coef === 1 ? syms : `${value.coef}*${syms}`;
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((dim) => typeof dim === 'number');
}

export function mulDims(a: Dim, b: Dim): Dim {
  const x = parse(a);
  const y = parse(b);
  return format({ coef: x.coef * y.coef, syms: [...x.syms, ...y.syms].sort() });
}

/** a / b when it divides exactly (symbols cancel, coefficients divide), else undefined. */
export function divDims(a: Dim, b: Dim): Dim | undefined {
  const x = parse(a);
  const y = parse(b);
  if (y.coef === 0 || x.coef % y.coef !== 0) return undefined;
  const syms = [...x.syms];
  for (const sym of y.syms) {
    const at = syms.indexOf(sym);
    if (at < 0) return undefined;
    syms.splice(at, 1);
  }
  return format({ coef: x.coef / y.coef, syms });
}

export function product(dims: Shape): Dim {
  return dims.reduce<Dim>((acc, dim) => mulDims(acc, dim), 1);
}

export function numel(shape: Shape): number {
  const total = product(shape);
  if (typeof total !== 'number') throw new MlError('SHAPE_MISMATCH', `shape [${shape.join(', ')}] is not static`);
  return total;
}

export function broadcastDim(a: Dim, b: Dim, context: string): Dim {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  // A symbolic dim meeting a number is taken to be that number at run time (onnxruntime checks it then).
  if (typeof a === 'string' && typeof b === 'number') return b;
  if (typeof b === 'string' && typeof a === 'number') return a;
  throw new MlError('SHAPE_MISMATCH', `${context}: dims ${a} and ${b} do not broadcast`);
}

export function broadcastShapes(a: Shape, b: Shape, context: string): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    out.push(broadcastDim(da, db, context));
  }
  return out;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

export function normalizeAxis(axis: number, rank: number, context: string): number {
  const out = axis < 0 ? axis + rank : axis;
  if (out < 0 || out >= rank) throw new MlError('SHAPE_MISMATCH', `${context}: axis ${axis} is out of range for rank ${rank}`);
  return out;
}

export function staticDim(dim: Dim | undefined, context: string): number {
  if (typeof dim !== 'number') throw new MlError('SHAPE_MISMATCH', `${context}: needs a static dim, got ${String(dim)}`);
  return dim;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** The number a dim takes once its symbols are bound, e.g. "336*batch" with { batch: 32 } -> 10752. */
export function evaluateDim(dim: Dim, bindings: Readonly<Record<string, number>>): number {
  const { coef, syms } = parse(dim);
  return syms.reduce((acc, sym) => {
    const value = bindings[sym];
    if (value === undefined) throw new MlError('INVALID_ARGUMENT', `no value bound for dim '${sym}'`);
    return acc * value;
  }, coef);
}
