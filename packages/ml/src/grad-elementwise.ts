// Gradient rules of the element-wise ops: each is a few ordinary ONNX ops on the output gradient, with
// broadcast operands summed back to their own shape.
import { isFloat } from './dtype.js';
import { firstGrad, inputOf, isReluMasked, outputOf, reluMask, unbroadcast, type GradRule } from './grad-rule.js';
import { cast, div, mul, neg, sub } from './ops-elementwise.js';

export const elementwiseGradients: Record<string, GradRule> = {
  Add: (g, node, dys, wants) => {
    const dy = firstGrad(node, dys);
    return [wants[0] ? unbroadcast(g, dy, inputOf(node, 0)) : undefined, wants[1] ? unbroadcast(g, dy, inputOf(node, 1)) : undefined];
  },
  Sub: (g, node, dys, wants) => {
    const dy = firstGrad(node, dys);
    return [wants[0] ? unbroadcast(g, dy, inputOf(node, 0)) : undefined, wants[1] ? unbroadcast(g, neg(g, dy), inputOf(node, 1)) : undefined];
  },
  Mul: (g, node, dys, wants) => {
    const dy = firstGrad(node, dys);
    const [a, b] = [inputOf(node, 0), inputOf(node, 1)];
    return [wants[0] ? unbroadcast(g, mul(g, dy, b), a) : undefined, wants[1] ? unbroadcast(g, mul(g, dy, a), b) : undefined];
  },
  Div: (g, node, dys, wants) => {
    const dy = firstGrad(node, dys);
    const [a, b, y] = [inputOf(node, 0), inputOf(node, 1), outputOf(node, 0)];
    // d(a/b)/db = -a/b^2 = -y/b, which reuses the forward output instead of squaring b.
    return [
      wants[0] ? unbroadcast(g, div(g, dy, b), a) : undefined,
      wants[1] ? unbroadcast(g, neg(g, div(g, mul(g, dy, y), b)), b) : undefined,
    ];
  },
  Neg: (g, node, dys) => [neg(g, firstGrad(node, dys))],
  Relu: (g, node, dys) => {
    const y = outputOf(node, 0);
    const dy = firstGrad(node, dys);
    // y > 0 exactly where x > 0. A MaxPool right after may have applied this mask already (see grad-nn.ts).
    return [isReluMasked(dy, y) ? dy : reluMask(g, y, dy)];
  },
  Sigmoid: (g, node, dys) => {
    const y = outputOf(node, 0);
    return [mul(g, firstGrad(node, dys), mul(g, y, sub(g, g.scalar(1, y.dtype), y)))];
  },
  Tanh: (g, node, dys) => {
    const y = outputOf(node, 0);
    return [mul(g, firstGrad(node, dys), sub(g, g.scalar(1, y.dtype), mul(g, y, y)))];
  },
  Exp: (g, node, dys) => [mul(g, firstGrad(node, dys), outputOf(node, 0))],
  Log: (g, node, dys) => [div(g, firstGrad(node, dys), inputOf(node, 0))],
  Sqrt: (g, node, dys) => {
    const y = outputOf(node, 0);
    return [div(g, firstGrad(node, dys), mul(g, g.scalar(2, y.dtype), y))];
  },
  Sum: (g, node, dys, wants) => {
    const dy = firstGrad(node, dys);
    return node.inputs.map((input, i) => (wants[i] && input ? unbroadcast(g, dy, input) : undefined));
  },
  Identity: (_g, node, dys) => [firstGrad(node, dys)],
  Cast: (g, node, dys) => {
    const x = inputOf(node, 0);
    return [isFloat(x.dtype) ? cast(g, firstGrad(node, dys), x.dtype) : undefined];
  },
};
