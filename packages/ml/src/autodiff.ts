// Reverse-mode differentiation over a GraphBuilder: walks the recorded forward nodes from the loss back to the
// requested values and appends their gradients as ordinary ONNX ops (onnxruntime has no training kernels).
import { isFloat } from './dtype.js';
import { formatShape, sameShape } from './dims.js';
import { MlError } from './errors.js';
import { elementwiseGradients } from './grad-elementwise.js';
import { nnGradients } from './grad-nn.js';
import { reduceGradients } from './grad-reduce.js';
import type { GradRule } from './grad-rule.js';
import { shapeGradients } from './grad-shape.js';
import type { GraphBuilder, NodeRecord, Value } from './graph.js';
import { sum } from './ops-elementwise.js';
import { zerosLike } from './ops-shape.js';

const rules: Readonly<Record<string, GradRule>> = {
  ...elementwiseGradients,
  ...shapeGradients,
  ...reduceGradients,
  ...nnGradients,
};

/** Op types autodiff can differentiate through. */
export const differentiableOps: readonly string[] = Object.keys(rules).sort();

/**
 * Appends to `g` the ops computing d(loss)/d(value) for every value in `wrt` and returns those gradients in the
 * same order. `loss` must be a float scalar. A value the loss does not depend on gets zeros.
 */
export function gradients(g: GraphBuilder, loss: Value, wrt: readonly Value[]): Value[] {
  if (loss.rank !== 0 || !isFloat(loss.dtype)) throw new MlError('INVALID_ARGUMENT', `loss ${loss} must be a float scalar`);
  const forward = g.nodes.slice();
  const dependsOnWrt = new Set(wrt.map((v) => v.name));
  for (const node of forward) {
    if (node.inputs.some((input) => input !== null && dependsOnWrt.has(input.name))) {
      for (const output of node.outputs) if (isFloat(output.dtype)) dependsOnWrt.add(output.name);
    }
  }
  const reachesLoss = new Set([loss.name]);
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i] as NodeRecord;
    if (node.outputs.some((output) => reachesLoss.has(output.name))) {
      for (const input of node.inputs) if (input !== null) reachesLoss.add(input.name);
    }
  }
  const contributions = new Map<string, Value[]>([[loss.name, [g.scalar(1, loss.dtype)]]]);
  const total = (value: Value): Value | undefined => {
    const terms = contributions.get(value.name);
    if (terms === undefined) return undefined;
    const summed = sum(g, terms);
    contributions.set(value.name, [summed]);
    return summed;
  };

  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i] as NodeRecord;
    const wants = node.inputs.map((input) =>
      input !== null && isFloat(input.dtype) && dependsOnWrt.has(input.name) && reachesLoss.has(input.name));
    if (!wants.some(Boolean)) continue;
    const dOutputs = node.outputs.map(total);
    if (dOutputs.every((d) => d === undefined)) continue;
    const rule = rules[node.opType];
    if (rule === undefined) {
      throw new MlError('NO_GRADIENT', `no gradient rule for ${node.opType} (node ${node.name}); differentiable ops: ${differentiableOps.join(', ')}`);
    }
    const dInputs = rule(g, node, dOutputs, wants);
    node.inputs.forEach((input, j) => {
      const grad = dInputs[j];
      if (input === null || !wants[j]) return;
      if (grad === undefined) throw new MlError('NO_GRADIENT', `${node.opType} ${node.name} gave no gradient for input ${j}`);
      if (!sameShape(grad.shape, input.shape)) {
        throw new MlError('SHAPE_MISMATCH', `${node.opType} gradient for ${input} came out ${formatShape(grad.shape)}`);
      }
      const terms = contributions.get(input.name);
      if (terms === undefined) contributions.set(input.name, [grad]);
      else terms.push(grad);
    });
  }
  return wrt.map((value) => total(value) ?? zerosLike(g, value));
}
