// Building blocks for model definitions: a parameter list that names and initializes tensors, and the dense,
// 1-D conv and LSTM-cell layers written with graph ops (so their gradients come from the op rules).
import type { GraphBuilder, Value } from './graph.js';
import type { ForwardContext, Init, ParamSpec } from './model-spec.js';
import { MlError } from './errors.js';
import { add, mul, sigmoid, tanh } from './ops-elementwise.js';
import { conv1d, gemm, type Conv1dOptions } from './ops-nn.js';
import { split } from './ops-shape.js';

export class ParamList {
  readonly specs: ParamSpec[] = [];

  add(name: string, shape: readonly number[], init: Init): string {
    if (this.specs.some((spec) => spec.name === name)) throw new MlError('INVALID_ARGUMENT', `parameter '${name}' is declared twice`);
    this.specs.push({ name, shape: [...shape], init });
    return name;
  }
}

export function param(context: ForwardContext, name: string): Value {
  const value = context.params[name];
  if (value === undefined) throw new MlError('INVALID_ARGUMENT', `model uses undeclared parameter '${name}'`);
  return value;
}

/** y = x W^T + b with W [out, in] (the PyTorch layout, so weights map one to one). */
export function dense(context: ForwardContext, prefix: string, x: Value): Value {
  return gemm(context.g, x, param(context, `${prefix}.weight`), param(context, `${prefix}.bias`), { transB: true });
}

export function conv(context: ForwardContext, prefix: string, x: Value, options: Conv1dOptions = {}): Value {
  return conv1d(context.g, x, param(context, `${prefix}.weight`), param(context, `${prefix}.bias`), options);
}

export interface LstmState {
  readonly h: Value;
  readonly c: Value;
}

/**
 * One LSTM step with gates ordered i, f, g, o (PyTorch's layout): z = x Wx^T + h Wh^T + b, then
 * c' = sigmoid(f) c + sigmoid(i) tanh(g) and h' = sigmoid(o) tanh(c'). Without a state, h = c = 0.
 */
export function lstmCell(context: ForwardContext, prefix: string, x: Value, hidden: number, state: LstmState | undefined): LstmState {
  const g: GraphBuilder = context.g;
  const inputPart = gemm(g, x, param(context, `${prefix}.weight_ih`), param(context, `${prefix}.bias`), { transB: true });
  const z = state === undefined ? inputPart : add(g, inputPart, gemm(g, state.h, param(context, `${prefix}.weight_hh`), null, { transB: true }));
  const [i, f, candidate, o] = split(g, z, 1, [hidden, hidden, hidden, hidden]) as [Value, Value, Value, Value];
  const write = mul(g, sigmoid(g, i), tanh(g, candidate));
  const c = state === undefined ? write : add(g, mul(g, sigmoid(g, f), state.c), write);
  return { h: mul(g, sigmoid(g, o), tanh(g, c)), c };
}
