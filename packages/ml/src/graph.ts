// The graph builder's core: symbolic values, recorded nodes, inputs, trainable parameters and constants.
// Ops (ops-*.ts) append nodes through `addNode` after inferring output shapes; autodiff replays them in reverse.
import { allocate, isFloat, type DType, type FloatType } from './dtype.js';
import { formatShape, type Shape } from './dims.js';
import { MlError } from './errors.js';
import type { TensorData } from './tensor-data.js';

export class Value {
  constructor(
    readonly graph: GraphBuilder,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

export type Attr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'tensor'; readonly value: TensorData };

export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  tensor: (value: TensorData): Attr => ({ kind: 'tensor', value }),
};

export interface NodeRecord {
  readonly name: string;
  readonly opType: string;
  /** `null` stands for an omitted optional input (an empty name in ONNX). */
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

export interface OutputSpec {
  readonly dtype: DType;
  readonly shape: Shape;
}

export interface GraphOptions {
  /** Float type of parameters and of constants made by ops; float64 serves gradient checks. */
  readonly dtype?: FloatType;
  /** Training graphs keep what backward passes need (MaxPool indices, dropout masks); inference graphs do not. */
  readonly training?: boolean;
}

export class GraphBuilder {
  readonly dtype: FloatType;
  readonly training: boolean;
  readonly nodes: NodeRecord[] = [];
  /** Values fed at run time: data, labels, dropout masks, learning rate, optimizer state, and so on. */
  readonly inputs: Value[] = [];
  /** Trainable tensors: graph inputs of a training graph, initializers of an exported model. */
  readonly params: Value[] = [];
  readonly constants = new Map<string, TensorData>();
  private readonly producers = new Map<string, NodeRecord>();
  private readonly names = new Set<string>();
  private readonly constantCache = new Map<string, Value>();
  private counter = 0;

  constructor(options: GraphOptions = {}) {
    this.dtype = options.dtype ?? 'float32';
    this.training = options.training ?? true;
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    const value = new Value(this, this.claim(name), dtype, shape);
    this.inputs.push(value);
    return value;
  }

  param(name: string, shape: readonly number[]): Value {
    const value = new Value(this, this.claim(name), this.dtype, shape);
    this.params.push(value);
    return value;
  }

  /** A named initializer that stays in every model built from this graph. */
  constant(data: TensorData, hint = 'const'): Value {
    const name = this.fresh(hint);
    this.constants.set(name, data);
    return new Value(this, name, data.dtype, data.shape);
  }

  /** A cached 0-d constant, e.g. the 0 of a ReLU mask or the 1 of `1 - y`. */
  scalar(value: number, dtype: DType = this.dtype): Value {
    const key = `s:${dtype}:${value}`;
    let found = this.constantCache.get(key);
    if (found === undefined) {
      const data = allocate(dtype, 1);
      if (data instanceof BigInt64Array) data[0] = BigInt(value);
      else data[0] = value;
      found = this.constant({ dtype, shape: [], data }, 'scalar');
      this.constantCache.set(key, found);
    }
    return found;
  }

  /** A cached 1-d int64 constant: axes, shapes, pads and slice bounds that ops take as inputs. */
  int64s(values: readonly number[]): Value {
    const key = `i:${values.join(',')}`;
    let found = this.constantCache.get(key);
    if (found === undefined) {
      found = this.constant({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, BigInt) }, 'ints');
      this.constantCache.set(key, found);
    }
    return found;
  }

  /** The numbers held by an int64 constant made by `int64s` (grad rules read axes and bounds back this way). */
  constantInts(value: Value): number[] {
    const data = this.constants.get(value.name);
    if (data === undefined || !(data.data instanceof BigInt64Array)) {
      throw new MlError('INVALID_ARGUMENT', `${value.name} is not an int64 constant of this graph`);
    }
    return Array.from(data.data, Number);
  }

  isConstant(value: Value): boolean {
    return this.constants.has(value.name);
  }

  producer(value: Value): NodeRecord | undefined {
    return this.producers.get(value.name);
  }

  addNode(
    opType: string,
    inputs: readonly (Value | null)[],
    outputs: readonly OutputSpec[],
    attrs: Readonly<Record<string, Attr>> = {},
  ): Value[] {
    for (const input of inputs) {
      if (input !== null && input.graph !== this) {
        throw new MlError('INVALID_ARGUMENT', `${opType}: value ${input.name} belongs to another graph`);
      }
    }
    const name = this.fresh(opType);
    const values = outputs.map((spec, i) => new Value(this, this.fresh(`${opType}${i}`), spec.dtype, spec.shape));
    const node: NodeRecord = { name, opType, inputs: [...inputs], outputs: values, attrs };
    this.nodes.push(node);
    for (const value of values) this.producers.set(value.name, node);
    return values;
  }

  /** Shorthand for the common single-output node. */
  op(opType: string, inputs: readonly (Value | null)[], output: OutputSpec, attrs: Readonly<Record<string, Attr>> = {}): Value {
    const [value] = this.addNode(opType, inputs, [output], attrs);
    if (value === undefined) throw new MlError('INVALID_ARGUMENT', `${opType} produced no output`);
    return value;
  }

  private claim(name: string): string {
    if (this.names.has(name) || name.startsWith('/')) {
      throw new MlError('INVALID_ARGUMENT', `value name '${name}' is taken or reserved`);
    }
    this.names.add(name);
    return name;
  }

  /** Generated names start with '/', which user-chosen names may not, so the two never collide. */
  private fresh(hint: string): string {
    const name = `/${hint}_${this.counter++}`;
    this.names.add(name);
    return name;
  }
}

export function requireFloat(value: Value, context: string): FloatType {
  if (!isFloat(value.dtype)) throw new MlError('SHAPE_MISMATCH', `${context}: ${value} must be a float tensor`);
  return value.dtype;
}

export function requireSameDtype(a: Value, b: Value, context: string): DType {
  if (a.dtype !== b.dtype) throw new MlError('SHAPE_MISMATCH', `${context}: dtypes differ (${a} vs ${b})`);
  return a.dtype;
}

export function requireRank(value: Value, rank: number, context: string): void {
  if (value.rank !== rank) throw new MlError('SHAPE_MISMATCH', `${context}: ${value} must have rank ${rank}`);
}

