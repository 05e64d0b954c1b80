// Gradient rules of the shape and data-movement ops: reshapes undo themselves, Transpose inverts its
// permutation, Concat/Split and Slice/Pad are each other's adjoints, and Gather scatter-adds into zeros.
import { staticDim } from './dims.js';
import { MlError } from './errors.js';
import { firstGrad, inputOf, unbroadcast, type GradRule } from './grad-rule.js';
import type { GraphBuilder, NodeRecord, Value } from './graph.js';
import { cast } from './ops-elementwise.js';
import { scatterNdAdd } from './ops-nn.js';
import { concat, inversePermutation, pad, reshapeLike, slice, split, transpose, unsqueeze, zerosLike } from './ops-shape.js';

const reshapeBack: GradRule = (g, node, dys) => [reshapeLike(g, firstGrad(node, dys), inputOf(node, 0))];

function intAttr(node: NodeRecord, name: string): number {
  const value = node.attrs[name];
  if (value?.kind !== 'int') throw new MlError('NO_GRADIENT', `${node.opType} ${node.name} lacks attribute ${name}`);
  return value.value;
}

function intsAttr(node: NodeRecord, name: string): readonly number[] {
  const value = node.attrs[name];
  if (value?.kind !== 'ints') throw new MlError('NO_GRADIENT', `${node.opType} ${node.name} lacks attribute ${name}`);
  return value.value;
}

/** The gradient of Gather with respect to its data: scatter-add the output gradient into zeros (exact for repeats). */
function gatherDataGrad(g: GraphBuilder, data: Value, indices: Value, dy: Value, axis: number): Value {
  const index = unsqueeze(g, cast(g, indices, 'int64'), [-1]);
  if (axis === 0) return scatterNdAdd(g, zerosLike(g, data), index, dy);
  // Move the gathered axis to the front, scatter there, and move it back.
  const r = indices.rank;
  const front = [axis, ...Array.from({ length: axis }, (_, i) => i), ...Array.from({ length: data.rank - axis - 1 }, (_, i) => axis + 1 + i)];
  const dyPerm = [
    ...Array.from({ length: r }, (_, i) => axis + i),
    ...Array.from({ length: axis }, (_, i) => i),
    ...Array.from({ length: data.rank - axis - 1 }, (_, i) => axis + r + i),
  ];
  const zeros = zerosLike(g, transpose(g, data, front));
  const scattered = scatterNdAdd(g, zeros, index, transpose(g, dy, dyPerm));
  return transpose(g, scattered, inversePermutation(front));
}

export const shapeGradients: Record<string, GradRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: (g, node, dys) => [transpose(g, firstGrad(node, dys), inversePermutation(intsAttr(node, 'perm')))],
  Concat: (g, node, dys, wants) => {
    const axis = intAttr(node, 'axis');
    const sizes = node.inputs.map((input, i) => staticDim(inputOf(node, i).shape[axis], `Concat input ${String(input?.name)}`));
    const parts = split(g, firstGrad(node, dys), axis, sizes);
    return parts.map((part, i) => (wants[i] ? part : undefined));
  },
  Split: (g, node, dys) => {
    const axis = intAttr(node, 'axis');
    const parts = node.outputs.map((output, i) => dys[i] ?? zerosLike(g, output));
    return [concat(g, parts, axis)];
  },
  Slice: (g, node, dys) => {
    const x = inputOf(node, 0);
    const starts = g.constantInts(inputOf(node, 1));
    const ends = g.constantInts(inputOf(node, 2));
    const axes = g.constantInts(inputOf(node, 3));
    const pads = new Array<number>(2 * x.rank).fill(0);
    axes.forEach((axis, i) => {
      pads[axis] = starts[i] ?? 0;
      pads[axis + x.rank] = staticDim(x.shape[axis], 'Slice axis') - (ends[i] ?? 0);
    });
    return [pad(g, firstGrad(node, dys), pads)];
  },
  Pad: (g, node, dys) => {
    const x = inputOf(node, 0);
    const pads = g.constantInts(inputOf(node, 1));
    const specs = x.shape.flatMap((dim, axis) => {
      const begin = pads[axis] ?? 0;
      const end = pads[axis + x.rank] ?? 0;
      if (begin === 0 && end === 0) return [];
      return [{ axis, start: begin, end: begin + staticDim(dim, 'Pad axis') }];
    });
    return [specs.length > 0 ? slice(g, firstGrad(node, dys), specs) : firstGrad(node, dys)];
  },
  Gather: (g, node, dys, wants) => {
    if (!wants[0]) return [undefined, undefined];
    return [gatherDataGrad(g, inputOf(node, 0), inputOf(node, 1), firstGrad(node, dys), intAttr(node, 'axis')), undefined];
  },
  Expand: (g, node, dys) => [unbroadcast(g, firstGrad(node, dys), inputOf(node, 0)), undefined],
};
