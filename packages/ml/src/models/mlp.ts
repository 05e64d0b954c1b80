// A multilayer perceptron over a fixed window of features (e.g. the last N points of a time series):
// dense layers with ReLU and optional dropout, ending in a regression or classification head.
import { MlError } from '../errors.js';
import type { Value } from '../graph.js';
import { dense, ParamList } from '../layers.js';
import { BATCH, type ModelSpec, type TargetSpec } from '../model-spec.js';
import { relu } from '../ops-elementwise.js';
import { glorotUniform, heNormal } from '../weights.js';

export interface MlpConfig {
  /** Features per example (window length x features per step). */
  readonly inputs: number;
  readonly hidden: readonly number[];
  readonly target: TargetSpec;
  readonly dropout?: number;
  readonly name?: string;
}

export function mlp(config: MlpConfig): ModelSpec {
  if (config.inputs < 1) throw new MlError('INVALID_ARGUMENT', 'an MLP needs at least one input feature');
  const outputs = config.target.kind === 'classes' ? config.target.classes : config.target.size;
  const sizes = [config.inputs, ...config.hidden, outputs];
  const params = new ParamList();
  for (let i = 0; i + 1 < sizes.length; i++) {
    const [fanIn, fanOut] = [sizes[i] as number, sizes[i + 1] as number];
    const last = i + 2 === sizes.length;
    params.add(`dense${i}.weight`, [fanOut, fanIn], last ? glorotUniform(fanIn, fanOut) : heNormal(fanIn));
    params.add(`dense${i}.bias`, [fanOut], { kind: 'constant', value: 0 });
  }
  return {
    name: config.name ?? 'mlp',
    inputs: [{ name: 'features', dtype: 'float32', shape: [BATCH, config.inputs] }],
    target: config.target,
    params: params.specs,
    metadata: { 'loom.model': JSON.stringify(config.name ?? 'mlp'), inputs: JSON.stringify(config.inputs) },
    forward: (context) => {
      let x = context.inputs['features'] as Value;
      for (let i = 0; i + 1 < sizes.length; i++) {
        x = dense(context, `dense${i}`, x);
        if (i + 2 < sizes.length) x = context.dropout(relu(context.g, x), config.dropout ?? 0);
      }
      return x;
    },
  };
}
