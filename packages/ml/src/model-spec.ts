// What a trainable model is to the engine: named inputs with a symbolic batch dim, a prediction target,
// parameters with their initializers, metadata for the exported file, and a forward function over a graph.
import type { Dim } from './dims.js';
import type { GraphBuilder, Value } from './graph.js';

/** The symbolic dim every model input, label and output starts with. */
export const BATCH = 'batch';

export interface InputSpec {
  readonly name: string;
  readonly dtype: 'int64' | 'float32';
  /** Starts with BATCH; every other dim is static. */
  readonly shape: readonly Dim[];
}

export type TargetSpec =
  /** Integer labels in [0, classes); output `logits` [batch, classes]; softmax cross-entropy loss. */
  | { readonly kind: 'classes'; readonly classes: number }
  /** Float targets [batch, size]; output `prediction` [batch, size]; mean squared error loss. */
  | { readonly kind: 'regression'; readonly size: number };

export type Init =
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'uniform'; readonly limit: number }
  | { readonly kind: 'constant'; readonly value: number };

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
}

export interface ForwardContext {
  readonly g: GraphBuilder;
  readonly inputs: Readonly<Record<string, Value>>;
  readonly params: Readonly<Record<string, Value>>;
  /** Inverted dropout with a mask fed per step in training graphs; the identity in inference graphs. */
  dropout(x: Value, rate: number): Value;
}

export interface ModelSpec {
  readonly name: string;
  readonly inputs: readonly InputSpec[];
  readonly target: TargetSpec;
  readonly params: readonly ParamSpec[];
  /** ModelProto.metadata_props of the exported model; every value is JSON. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Returns logits [batch, classes] or predictions [batch, size]. */
  forward(context: ForwardContext): Value;
}

export function outputName(spec: ModelSpec): 'logits' | 'prediction' {
  return spec.target.kind === 'classes' ? 'logits' : 'prediction';
}
