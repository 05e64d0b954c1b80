// Gradient rules of ReduceSum and ReduceMean: broadcast the output gradient back over the reduced axes
// (dividing by the element count for a mean, computed in the graph when the batch dim is symbolic).
import { MlError } from './errors.js';
import { firstGrad, inputOf, outputOf, type GradRule } from './grad-rule.js';
import type { GraphBuilder, NodeRecord, Value } from './graph.js';
import { div } from './ops-elementwise.js';
import { reductionCount } from './ops-reduce.js';
import { expandLike, unsqueeze } from './ops-shape.js';

function spread(g: GraphBuilder, node: NodeRecord, dy: Value): Value {
  const x = inputOf(node, 0);
  const keepdims = node.attrs['keepdims'];
  if (keepdims?.kind !== 'int') throw new MlError('NO_GRADIENT', `${node.opType} ${node.name} lacks keepdims`);
  const axes = g.constantInts(inputOf(node, 1));
  const kept = keepdims.value === 1 || axes.length === 0 ? dy : unsqueeze(g, dy, axes);
  return expandLike(g, kept, x);
}

export const reduceGradients: Record<string, GradRule> = {
  ReduceSum: (g, node, dys) => [spread(g, node, firstGrad(node, dys)), undefined],
  ReduceMean: (g, node, dys) => {
    const count = reductionCount(g, inputOf(node, 0), outputOf(node, 0));
    return [spread(g, node, div(g, firstGrad(node, dys), count)), undefined];
  },
};
