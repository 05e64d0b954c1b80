// The contract between autodiff and per-op gradient rules, and the broadcasting helper most rules share.
import { sameShape } from './dims.js';
import { MlError } from './errors.js';
import type { GraphBuilder, NodeRecord, Value } from './graph.js';
import { greater, where } from './ops-elementwise.js';
import { reduceSum } from './ops-reduce.js';
import { reshapeLike } from './ops-shape.js';

/**
 * Given a node and the gradients of the loss with respect to its outputs (undefined where an output does not
 * reach the loss), emit ordinary ONNX ops for the gradients with respect to the inputs flagged in `wants`.
 * Entries not wanted may be undefined; wanted ones must have the input's shape.
 */
export type GradRule = (
  g: GraphBuilder,
  node: NodeRecord,
  dOutputs: readonly (Value | undefined)[],
  wants: readonly boolean[],
) => (Value | undefined)[];

/** Sums a broadcast gradient back to the shape of the operand that was broadcast. */
export function unbroadcast(g: GraphBuilder, grad: Value, operand: Value): Value {
  if (sameShape(grad.shape, operand.shape)) return grad;
  const offset = grad.rank - operand.rank;
  const axes: number[] = [];
  grad.shape.forEach((dim, i) => {
    if (i < offset) axes.push(i);
    else if (operand.shape[i - offset] === 1 && dim !== 1) axes.push(i);
  });
  const summed = axes.length > 0 ? reduceSum(g, grad, axes, true) : grad;
  // Leading axes were kept as 1s by keepdims; a reshape drops them.
  return sameShape(summed.shape, operand.shape) ? summed : reshapeLike(g, summed, operand);
}

/** The node's i-th input, which its rule relies on being present. */
export function inputOf(node: NodeRecord, i: number): Value {
  const value = node.inputs[i];
  if (value === undefined || value === null) {
    throw new MlError('NO_GRADIENT', `${node.opType} ${node.name} has no input ${i} for its gradient`);
  }
  return value;
}

export function outputOf(node: NodeRecord, i: number): Value {
  const value = node.outputs[i];
  if (value === undefined) throw new MlError('NO_GRADIENT', `${node.opType} ${node.name} has no output ${i} for its gradient`);
  return value;
}

/** The gradient of the node's first output; autodiff only calls a rule when some output has one. */
export function firstGrad(node: NodeRecord, dOutputs: readonly (Value | undefined)[]): Value {
  const value = dOutputs[0];
  if (value === undefined) throw new MlError('NO_GRADIENT', `${node.opType} ${node.name}: no gradient reached output 0`);
  return value;
}

/** dy where y > 0, else 0: ReLU's backward (the kink at 0 gets gradient 0, as in the major frameworks). */
export function reluMask(g: GraphBuilder, y: Value, dy: Value): Value {
  const zero = g.scalar(0, y.dtype);
  return where(g, greater(g, y, zero), dy, zero);
}

/** Gradients already zero wherever a ReLU output is not positive, mapped to that ReLU output. */
const reluMasked = new WeakMap<Value, Value>();

/** Records that `grad` (of `reluOutput`) was masked by a later rule, so the ReLU rule can pass it through. */
export function markReluMasked(grad: Value, reluOutput: Value): void {
  reluMasked.set(grad, reluOutput);
}

export function isReluMasked(grad: Value, reluOutput: Value): boolean {
  return reluMasked.get(grad) === reluOutput;
}
