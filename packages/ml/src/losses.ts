// Losses as compositions of differentiable primitives, so their gradients come from the per-op rules:
// softmax cross-entropy through LogSoftmax (stable for any logit scale) and mean squared error.
import { MlError } from './errors.js';
import type { GraphBuilder, Value } from './graph.js';
import { mul, neg, sub } from './ops-elementwise.js';
import { logSoftmax } from './ops-nn.js';
import { reduceMean, reduceSum } from './ops-reduce.js';
import { gather } from './ops-shape.js';
import { allocate } from './dtype.js';
import { staticDim } from './dims.js';

/** Rows of the identity matrix, gathered by label: a one-hot encoder that needs no OneHot kernel. */
export function oneHot(g: GraphBuilder, labels: Value, classes: number): Value {
  const eye = allocate(g.dtype, classes * classes);
  for (let i = 0; i < classes; i++) eye[i * classes + i] = 1;
  return gather(g, g.constant({ dtype: g.dtype, shape: [classes, classes], data: eye }, 'eye'), labels);
}

/** Mean over the batch of -log softmax(logits)[label]; logits [N, C], labels int [N] in [0, C). */
export function softmaxCrossEntropy(g: GraphBuilder, logits: Value, labels: Value): Value {
  if (logits.rank !== 2 || labels.rank !== 1) {
    throw new MlError('SHAPE_MISMATCH', `cross-entropy wants logits [N, C] and labels [N], got ${logits} and ${labels}`);
  }
  const classes = staticDim(logits.shape[1], 'cross-entropy classes');
  const picked = reduceSum(g, mul(g, oneHot(g, labels, classes), logSoftmax(g, logits, 1)), [1]);
  return neg(g, reduceMean(g, picked, [0]));
}

/** Mean over all elements of (prediction - target)^2. */
export function meanSquaredError(g: GraphBuilder, prediction: Value, target: Value): Value {
  const diff = sub(g, prediction, target);
  return reduceMean(g, mul(g, diff, diff), prediction.shape.map((_, i) => i));
}
