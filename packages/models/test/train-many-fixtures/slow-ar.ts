// A user-defined family for the trainMany fault tests: ar({ p }) that also spins `spinMs` per fit, so a run
// lasts long enough to kill a worker or the client in the middle of it. Its models are ar's, bit for bit.
import { ar, type FitResult, type ModelFamily, type PredictOptions, type Prediction } from '../../src/index.js';

export interface SlowArParams {
  p: number;
  spinMs: number;
}

export function slowAr(params: SlowArParams): ModelFamily<SlowArParams> {
  const inner = ar({ p: params.p });
  return {
    name: 'slow-ar',
    params,
    key: () => `slow-ar(p=${params.p},spin=${params.spinMs})`,
    paramCount: () => inner.paramCount(),
    paramNames: () => inner.paramNames(),
    minTrainPoints: () => inner.minTrainPoints(),
    historyPoints: () => inner.historyPoints(),
    fit(train: Float64Array): FitResult {
      const until = performance.now() + params.spinMs;
      while (performance.now() < until);
      return inner.fit(train);
    },
    predict: (model: Float64Array, history: Float64Array, test: Float64Array, options?: PredictOptions): Prediction => inner.predict(model, history, test, options),
  };
}
