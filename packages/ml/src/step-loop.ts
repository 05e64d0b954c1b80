// Wraps a one-step training graph in an ONNX Loop, so that one session call runs several training steps.
//
// Why: onnxruntime-node copies every output of a run into a fresh JavaScript buffer (preallocated outputs are
// written and then copied again), and a step's outputs include all weights and optimizer state: 130 MiB for
// CharCNN-small with Adam, 75-100 ms a step on this machine. Inside a Loop the weights and state are
// loop-carried: each step's updated tensors feed the next step in onnxruntime's own memory, and only the last
// ones come back to JavaScript. Everything that changes per step (data, labels, learning rate, dropout masks)
// is stacked along a new leading `steps` axis, and per-step outputs (loss, model output, gradient norm) come
// back stacked the same way. The arithmetic of each step is unchanged: K steps in one call give the same
// numbers as K calls (bit for bit with one thread).
import { onnxDataType } from './dtype.js';
import { MlError } from './errors.js';
import { onnxPb, type onnx } from './onnx-schema.js';

/** Name of the leading axis added to per-step inputs and outputs. */
export const STEPS_DIM = 'steps';
/**
 * Prefix of every value name inside the loop body: ONNX requires subgraph names to be distinct from the outer
 * graph's, and the outer graph keeps the step graph's names for its inputs and outputs.
 */
const BODY = 'step/';

/**
 * A model that runs `step` once per index of the leading axis of its per-step inputs. `carried` maps each
 * carried input (weights, optimizer state) to the output holding its next value; every other input is per
 * step, every other output is stacked per step. The result keeps the step graph's input and output names.
 */
export function loopOverSteps(step: Uint8Array, carried: ReadonlyMap<string, string>): Uint8Array {
  const model = onnxPb.ModelProto.decode(step);
  const graph = model.graph;
  if (graph === null || graph === undefined) throw new MlError('INVALID_ARGUMENT', 'the step model has no graph');
  const inputs = graph.input ?? [];
  const outputs = graph.output ?? [];
  const outputNamed = (name: string): onnx.IValueInfoProto => {
    const found = outputs.find((output) => output.name === name);
    if (found === undefined) throw new MlError('INVALID_ARGUMENT', `the step graph has no output '${name}' to carry`);
    return found;
  };
  const carriedInputs = inputs.filter((input) => carried.has(input.name ?? ''));
  if (carriedInputs.length !== carried.size) {
    const missing = [...carried.keys()].filter((name) => !inputs.some((input) => input.name === name));
    throw new MlError('INVALID_ARGUMENT', `the step graph has no input ${missing.map((name) => `'${name}'`).join(', ')} to carry`);
  }
  const carriedOutputs = carriedInputs.map((input) => outputNamed(carried.get(input.name ?? '') as string));
  const perStepInputs = inputs.filter((input) => !carried.has(input.name ?? ''));
  const nextNames = new Set(carriedOutputs.map((output) => output.name));
  const stackedOutputs = outputs.filter((output) => !nextNames.has(output.name));
  const [first] = perStepInputs;
  if (first?.name === undefined || first.name === null) {
    throw new MlError('INVALID_ARGUMENT', 'a step graph needs at least one per-step input to count steps by');
  }

  const inBody = (name: string): string => (name === '' ? '' : `${BODY}${name}`);
  const renamed = (value: onnx.IValueInfoProto): onnx.IValueInfoProto => ({ ...value, name: inBody(value.name ?? '') });
  const iteration = `${BODY}iteration`;
  const condition = `${BODY}condition`;
  const body: onnx.IGraphProto = {
    name: `${graph.name ?? 'step'}-body`,
    input: [
      { name: iteration, type: tensorType(onnxDataType('int64'), []) },
      { name: condition, type: tensorType(onnxDataType('bool'), []) },
      ...carriedInputs.map(renamed),
    ],
    node: [
      // This step's slice of each per-step input: outer-scope values are visible inside the body.
      ...perStepInputs.map((input): onnx.INodeProto => ({
        name: `${BODY}slice/${input.name}`,
        opType: 'Gather',
        input: [input.name ?? '', iteration],
        output: [inBody(input.name ?? '')],
        attribute: [{ name: 'axis', type: onnxPb.AttributeProto.AttributeType.INT, i: 0 }],
      })),
      { name: `${BODY}continue`, opType: 'Identity', input: [condition], output: [`${condition}.next`] },
      ...(graph.node ?? []).map((node) => ({
        ...node,
        name: inBody(node.name ?? ''),
        input: (node.input ?? []).map(inBody),
        output: (node.output ?? []).map(inBody),
      })),
    ],
    initializer: (graph.initializer ?? []).map((tensor) => ({ ...tensor, name: inBody(tensor.name ?? '') })),
    output: [
      { name: `${condition}.next`, type: tensorType(onnxDataType('bool'), []) },
      ...carriedOutputs.map(renamed),
      ...stackedOutputs.map(renamed),
    ],
  };
  const shapeName = `${first.name}.shape`;
  const stepCount = 'step_count';
  const outer: onnx.IGraphProto = {
    name: `${graph.name ?? 'step'}-loop`,
    input: [...perStepInputs.map(withStepsAxis), ...carriedInputs],
    node: [
      { name: 'steps/shape', opType: 'Shape', input: [first.name], output: [shapeName], attribute: [{ name: 'end', type: onnxPb.AttributeProto.AttributeType.INT, i: 1 }] },
      { name: 'steps/count', opType: 'Squeeze', input: [shapeName], output: [stepCount] },
      {
        name: 'steps/loop',
        opType: 'Loop',
        input: [stepCount, '', ...carriedInputs.map((input) => input.name ?? '')],
        output: [...carriedOutputs, ...stackedOutputs].map((output) => output.name ?? ''),
        attribute: [{ name: 'body', type: onnxPb.AttributeProto.AttributeType.GRAPH, g: body }],
      },
    ],
    output: [...carriedOutputs, ...stackedOutputs.map(withStepsAxis)],
  };
  return onnxPb.ModelProto.encode({ ...model, graph: outer }).finish();
}

function tensorType(elemType: number, dims: onnx.TensorShapeProto.IDimension[]): onnx.ITypeProto {
  return { tensorType: { elemType, shape: { dim: dims } } };
}

function withStepsAxis(value: onnx.IValueInfoProto): onnx.IValueInfoProto {
  const tensor = value.type?.tensorType;
  if (tensor === null || tensor === undefined) throw new MlError('INVALID_ARGUMENT', `'${value.name}' is not a tensor`);
  return { ...value, type: tensorType(tensor.elemType ?? 0, [{ dimParam: STEPS_DIM }, ...(tensor.shape?.dim ?? [])]) };
}
