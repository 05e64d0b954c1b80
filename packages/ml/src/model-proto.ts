// Turns a GraphBuilder into ONNX ModelProto bytes: prunes nodes the requested outputs do not need, names the
// outputs, and writes parameters either as graph inputs (training) or as initializers holding weights (export).
import { onnxDataType } from './dtype.js';
import { formatShape, sameShape, type Shape } from './dims.js';
import { MlError } from './errors.js';
import { Value, type Attr, type GraphBuilder, type NodeRecord } from './graph.js';
import { onnxPb, type onnx } from './onnx-schema.js';
import { tensorBytes, type TensorData } from './tensor-data.js';

/** The ONNX operator set Loom graphs target (onnxruntime-node 1.30 implements it fully on CPU). */
export const OPSET_VERSION = 18;
/** IR version 8 is the one that goes with opset 18. */
export const IR_VERSION = 8;

export interface ModelOptions {
  /** Graph outputs by name; a value whose own name differs is renamed through an Identity node. */
  readonly outputs: Readonly<Record<string, Value>>;
  /** Parameter values to embed as initializers; parameters without one become graph inputs. */
  readonly weights?: ReadonlyMap<string, TensorData>;
  /** Stored as ModelProto.metadata_props. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly graphName?: string;
  readonly docString?: string;
}

export function buildModel(g: GraphBuilder, options: ModelOptions): Uint8Array {
  return onnxPb.ModelProto.encode(modelProto(g, options)).finish();
}

export function modelProto(g: GraphBuilder, options: ModelOptions): onnx.IModelProto {
  const weights = options.weights ?? new Map<string, TensorData>();
  for (const [name, value] of weights) {
    const param = g.params.find((p) => p.name === name);
    if (param === undefined) throw new MlError('INVALID_ARGUMENT', `weight '${name}' is not a parameter of this graph`);
    if (!sameShape(param.shape, value.shape) || param.dtype !== value.dtype) {
      throw new MlError('SHAPE_MISMATCH', `weight '${name}' is ${value.dtype}${formatShape(value.shape)}, parameter is ${param}`);
    }
  }
  // Outputs computed by a node take the requested name directly (no Identity copy of large weight tensors);
  // graph inputs, constants and values requested under two names go through an Identity node.
  const renamed = new Map<string, string>();
  const identities: NodeRecord[] = [];
  const outputs: Value[] = [];
  const sources: string[] = [];
  for (const [name, value] of Object.entries(options.outputs)) {
    sources.push(value.name);
    const output = new Value(g, name, value.dtype, value.shape);
    outputs.push(output);
    if (value.name === name) continue;
    if ([...g.inputs, ...g.params].some((v) => v.name === name) || g.constants.has(name)) {
      throw new MlError('INVALID_ARGUMENT', `output name '${name}' is already the name of another value`);
    }
    if (g.producer(value) !== undefined && !renamed.has(value.name)) renamed.set(value.name, name);
    else identities.push({ name: `/rename_${name}`, opType: 'Identity', inputs: [value], outputs: [output], attrs: {} });
  }
  const rename = (value: Value): Value => {
    const name = renamed.get(value.name);
    return name === undefined ? value : new Value(g, name, value.dtype, value.shape);
  };
  const nodes = [...prune(g.nodes, sources), ...identities].map((node) => ({
    ...node,
    inputs: node.inputs.map((input) => (input === null ? null : rename(input))),
    outputs: node.outputs.map(rename),
  }));
  const used = new Set<string>();
  for (const node of nodes) for (const input of node.inputs) if (input !== null) used.add(input.name);
  for (const output of outputs) used.add(output.name);

  const initializers: onnx.ITensorProto[] = [];
  for (const [name, data] of g.constants) if (used.has(name)) initializers.push(tensorProto(name, data));
  const inputs: onnx.IValueInfoProto[] = g.inputs.map(valueInfo);
  for (const param of g.params) {
    const value = weights.get(param.name);
    if (value !== undefined) initializers.push(tensorProto(param.name, value));
    else inputs.push(valueInfo(param));
  }
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'loom',
    producerVersion: '0.1.0',
    docString: options.docString ?? '',
    graph: {
      name: options.graphName ?? 'loom',
      node: nodes.map(nodeProto),
      initializer: initializers,
      input: inputs,
      output: outputs.map(valueInfo),
    },
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

/** Keeps the nodes the named outputs depend on, in their recorded (topological) order. */
function prune(nodes: readonly NodeRecord[], outputs: readonly string[]): NodeRecord[] {
  const needed = new Set(outputs);
  const kept: NodeRecord[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i] as NodeRecord;
    if (!node.outputs.some((o) => needed.has(o.name))) continue;
    kept.push(node);
    for (const input of node.inputs) if (input !== null) needed.add(input.name);
  }
  return kept.reverse();
}

function nodeProto(node: NodeRecord): onnx.INodeProto {
  return {
    name: node.name,
    opType: node.opType,
    input: node.inputs.map((input) => input?.name ?? ''),
    output: node.outputs.map((output) => output.name),
    attribute: Object.entries(node.attrs).map(([name, value]) => attributeProto(name, value)),
  };
}

const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

function attributeProto(name: string, value: Attr): onnx.IAttributeProto {
  switch (value.kind) {
    case 'int': return { name, type: AttributeType.INT, i: value.value };
    case 'float': return { name, type: AttributeType.FLOAT, f: value.value };
    case 'ints': return { name, type: AttributeType.INTS, ints: [...value.value] };
    case 'floats': return { name, type: AttributeType.FLOATS, floats: [...value.value] };
    case 'string': return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.value) };
    case 'tensor': return { name, type: AttributeType.TENSOR, t: tensorProto('', value.value) };
  }
}

function tensorProto(name: string, value: TensorData): onnx.ITensorProto {
  return { name, dims: [...value.shape], dataType: onnxDataType(value.dtype), rawData: tensorBytes(value) };
}

function valueInfo(value: Value): onnx.IValueInfoProto {
  return {
    name: value.name,
    type: { tensorType: { elemType: onnxDataType(value.dtype), shape: { dim: shapeDims(value.shape) } } },
  };
}

function shapeDims(shape: Shape): onnx.TensorShapeProto.IDimension[] {
  return shape.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim }));
}
