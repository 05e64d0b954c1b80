// A user-defined family with a batched trainer, for the test that a batch hands such a family all its slices in
// one call: ar({ p }) whose fitBatch records the size of every call it gets.
import { ar, fitMany, type FitBatch, type ModelFamily, type Series } from '../../src/index.js';

/** Series per fitBatch call, in order, in this process. */
export const fitBatchCalls: number[] = [];

export function countingBatched(params: { p: number }): ModelFamily<{ p: number }> {
  const inner = ar(params);
  return {
    name: 'counting-ar',
    params,
    key: () => `counting-ar(p=${params.p})`,
    paramCount: () => inner.paramCount(),
    paramNames: () => inner.paramNames(),
    minTrainPoints: () => inner.minTrainPoints(),
    historyPoints: () => inner.historyPoints(),
    fit: (train) => inner.fit(train),
    predict: (model, history, test, options) => inner.predict(model, history, test, options),
    fitBatch: async (series: readonly (Float64Array | Series)[]): Promise<FitBatch> => {
      fitBatchCalls.push(series.length);
      return fitMany(inner, series);
    },
  };
}
