// A single-layer LSTM unrolled over a fixed window (time series forecasting): one LSTM cell per time step,
// written with ordinary ops so autodiff differentiates through time, then a dense head on the last state.
import { MlError } from '../errors.js';
import type { Value } from '../graph.js';
import { dense, lstmCell, ParamList, type LstmState } from '../layers.js';
import { BATCH, type ModelSpec, type TargetSpec } from '../model-spec.js';
import { slice, squeeze } from '../ops-shape.js';
import { glorotUniform } from '../weights.js';

export interface LstmConfig {
  /** Time steps in the window. */
  readonly window: number;
  /** Features per time step. */
  readonly features: number;
  readonly hidden: number;
  readonly target: TargetSpec;
  readonly name?: string;
}

export function lstm(config: LstmConfig): ModelSpec {
  if (config.window < 1 || config.features < 1 || config.hidden < 1) {
    throw new MlError('INVALID_ARGUMENT', 'an LSTM needs a window, features and hidden units of at least 1');
  }
  const { hidden, features } = config;
  const outputs = config.target.kind === 'classes' ? config.target.classes : config.target.size;
  const params = new ParamList();
  params.add('lstm.weight_ih', [4 * hidden, features], glorotUniform(features, 4 * hidden));
  params.add('lstm.weight_hh', [4 * hidden, hidden], glorotUniform(hidden, 4 * hidden));
  params.add('lstm.bias', [4 * hidden], { kind: 'constant', value: 0 });
  params.add('head.weight', [outputs, hidden], glorotUniform(hidden, outputs));
  params.add('head.bias', [outputs], { kind: 'constant', value: 0 });
  return {
    name: config.name ?? 'lstm',
    inputs: [{ name: 'series', dtype: 'float32', shape: [BATCH, config.window, features] }],
    target: config.target,
    params: params.specs,
    metadata: {
      'loom.model': JSON.stringify(config.name ?? 'lstm'),
      window: JSON.stringify(config.window),
      features: JSON.stringify(features),
    },
    forward: (context) => {
      const series = context.inputs['series'] as Value;
      let state: LstmState | undefined;
      for (let t = 0; t < config.window; t++) {
        const x = squeeze(context.g, slice(context.g, series, [{ axis: 1, start: t, end: t + 1 }]), [1]);
        state = lstmCell(context, 'lstm', x, hidden, state);
      }
      return dense(context, 'head', (state as LstmState).h);
    },
  };
}
