// Assembles the two graphs a model needs from its ModelSpec: the training graph (forward, loss, backward and
// optimizer update of one step, looped over as many steps as a call brings) and the inference graph (forward
// only, no dropout).
import { gradients } from './autodiff.js';
import { BATCH, outputName, type ForwardContext, type ModelSpec } from './model-spec.js';
import { GraphBuilder, type Value } from './graph.js';
import type { Dim } from './dims.js';
import { MlError } from './errors.js';
import { meanSquaredError, softmaxCrossEntropy } from './losses.js';
import { buildModel } from './model-proto.js';
import { mul } from './ops-elementwise.js';
import { optimizerStep, type OptimizerConfig, type StateSlot } from './optimizers.js';
import { loopOverSteps } from './step-loop.js';
import type { TensorData } from './tensor-data.js';
import type { WeightSet } from './weights.js';

export const LABELS = 'labels';
export const LOSS = 'loss';
export const LEARNING_RATE = 'learning_rate';
export const GRAD_NORM = 'grad_norm';

export interface DropoutSlot {
  /** Graph input fed with a 0 / (1 / (1 - rate)) mask each step. */
  readonly name: string;
  readonly shape: readonly Dim[];
  readonly rate: number;
}

export interface TrainingGraph {
  /**
   * Runs K steps per call (see step-loop.ts): data, labels, learning rate and dropout masks are fed stacked along
   * a leading `steps` axis; parameters and optimizer state are fed once and come back after the last step.
   */
  readonly model: Uint8Array;
  readonly dropout: readonly DropoutSlot[];
  readonly state: readonly Pick<StateSlot, 'name' | 'shape'>[];
  /**
   * Output names: `${param}.next` and `${state}.next` (after the last step), and per step (stacked): loss, the
   * model output, and grad_norm when clipping.
   */
  readonly outputs: readonly string[];
}

/** The output holding a parameter's or a state slot's value after the call's last step. */
export function nextName(name: string): string {
  return `${name}.next`;
}

/** Optimizer state at step 0: every slot of `graph` filled with zeros. */
export function zeroState(graph: Pick<TrainingGraph, 'state'>): Record<string, TensorData> {
  const state: Record<string, TensorData> = {};
  for (const slot of graph.state) {
    state[slot.name] = { dtype: 'float32', shape: [...slot.shape], data: new Float32Array(slot.shape.reduce((a, b) => a * b, 1)) };
  }
  return state;
}

interface Forward {
  readonly g: GraphBuilder;
  readonly output: Value;
  readonly params: readonly Value[];
  readonly dropout: readonly DropoutSlot[];
}

function forward(spec: ModelSpec, training: boolean): Forward {
  validateSpec(spec);
  const g = new GraphBuilder({ dtype: 'float32', training });
  const inputs: Record<string, Value> = {};
  for (const input of spec.inputs) inputs[input.name] = g.input(input.name, input.dtype, input.shape);
  const params: Record<string, Value> = {};
  for (const param of spec.params) params[param.name] = g.param(param.name, param.shape);
  const dropout: DropoutSlot[] = [];
  const context: ForwardContext = {
    g,
    inputs,
    params,
    dropout: (x, rate) => {
      if (!(rate >= 0 && rate < 1)) throw new MlError('INVALID_ARGUMENT', `dropout rate must be in [0, 1), got ${rate}`);
      if (!training || rate === 0) return x;
      const mask = g.input(`dropout${dropout.length}.mask`, x.dtype, x.shape);
      dropout.push({ name: mask.name, shape: x.shape, rate });
      return mul(g, x, mask);
    },
  };
  const output = spec.forward(context);
  const expected = spec.target.kind === 'classes' ? spec.target.classes : spec.target.size;
  if (output.rank !== 2 || output.shape[1] !== expected || output.dtype !== 'float32') {
    throw new MlError('SHAPE_MISMATCH', `model ${spec.name} returned ${output}, wanted float32[${BATCH}, ${expected}]`);
  }
  return { g, output, params: Object.values(params), dropout };
}

function addLoss(spec: ModelSpec, g: GraphBuilder, output: Value): Value {
  if (spec.target.kind === 'classes') return softmaxCrossEntropy(g, output, g.input(LABELS, 'int64', [BATCH]));
  return meanSquaredError(g, output, g.input(LABELS, 'float32', [BATCH, spec.target.size]));
}

export function buildTrainingGraph(spec: ModelSpec, optimizer: OptimizerConfig): TrainingGraph {
  const { g, output, params, dropout } = forward(spec, true);
  const loss = addLoss(spec, g, output);
  const grads = gradients(g, loss, params);
  const learningRate = g.input(LEARNING_RATE, 'float32', []);
  const step = optimizerStep(g, params, grads, learningRate, optimizer);
  const outputs: Record<string, Value> = { [LOSS]: loss, [outputName(spec)]: output };
  const carried = new Map<string, string>();
  const carry = (name: string, next: Value): void => {
    outputs[nextName(name)] = next;
    carried.set(name, nextName(name));
  };
  params.forEach((param, i) => carry(param.name, step.updated[i] as Value));
  for (const slot of step.state) carry(slot.name, slot.output);
  if (step.gradNorm !== undefined) outputs[GRAD_NORM] = step.gradNorm;
  const oneStep = buildModel(g, { outputs, graphName: `${spec.name}-train`, docString: `Loom training steps for ${spec.name}` });
  return {
    model: loopOverSteps(oneStep, carried),
    dropout,
    state: step.state.map(({ name, shape }) => ({ name, shape })),
    outputs: Object.keys(outputs),
  };
}

export interface InferenceGraphOptions {
  /** Embed these weights as initializers (an exported model); otherwise parameters are graph inputs. */
  readonly weights?: Readonly<WeightSet>;
  /** Also take `labels` and return `loss` (for evaluation). */
  readonly withLoss?: boolean;
}

export function buildInferenceGraph(spec: ModelSpec, options: InferenceGraphOptions = {}): Uint8Array {
  const { g, output } = forward(spec, false);
  const outputs: Record<string, Value> = { [outputName(spec)]: output };
  if (options.withLoss === true) outputs[LOSS] = addLoss(spec, g, output);
  return buildModel(g, {
    outputs,
    ...(options.weights !== undefined ? { weights: new Map(Object.entries(options.weights)) } : {}),
    metadata: spec.metadata,
    graphName: spec.name,
    docString: `Loom ${spec.name} (inference)`,
  });
}

function validateSpec(spec: ModelSpec): void {
  for (const input of spec.inputs) {
    if (input.shape[0] !== BATCH || input.shape.slice(1).some((dim) => typeof dim !== 'number')) {
      throw new MlError('INVALID_ARGUMENT', `input '${input.name}' must be shaped [${BATCH}, ...static dims]`);
    }
  }
}
