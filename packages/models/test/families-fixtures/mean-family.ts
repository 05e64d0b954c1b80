// User-defined families for the loading tests: a valid mean-and-deviation family exported as a factory, a
// class and a default; and exports that are broken in the ways loadFamily must explain.
import type { FitResult, ModelFamily, PredictOptions, Prediction } from '../../src/index.js';

interface MeanParams {
  readonly k: number;
}

/** Forecasts the training mean with a +-k standard deviation band. Packed model: [mean, sd]. */
export class MeanFamily implements ModelFamily<MeanParams> {
  readonly name = 'mean';
  readonly params: MeanParams;

  constructor(params?: Partial<MeanParams>) {
    this.params = { k: params?.k ?? 2 };
  }

  key(): string {
    return `mean(k=${this.params.k})`;
  }
  paramCount(): number {
    return 2;
  }
  paramNames(): readonly string[] {
    return ['mean', 'sd'];
  }
  minTrainPoints(): number {
    return 2;
  }
  historyPoints(): number {
    return 0;
  }
  fit(train: Float64Array): FitResult {
    if (train.length < 2) throw new Error('need two values');
    const mean = train.reduce((a, b) => a + b, 0) / train.length;
    const sd = Math.sqrt(train.reduce((a, b) => a + (b - mean) ** 2, 0) / train.length);
    return { params: Float64Array.of(mean, sd), trainPoints: train.length, trainRmse: sd, trainMae: train.reduce((a, b) => a + Math.abs(b - mean), 0) / train.length };
  }
  predict(model: Float64Array, _history: Float64Array, test: Float64Array, options?: PredictOptions): Prediction {
    const out = options?.out ?? { predicted: new Float64Array(test.length), lower: new Float64Array(test.length), upper: new Float64Array(test.length) };
    for (let j = 0; j < test.length; j++) {
      out.predicted[j] = model[0]!;
      out.lower[j] = model[0]! - this.params.k * model[1]!;
      out.upper[j] = model[0]! + this.params.k * model[1]!;
    }
    return out;
  }
}

export function meanFamily(params?: Partial<MeanParams>): ModelFamily<MeanParams> {
  return new MeanFamily(params);
}

export default meanFamily;

/** A ready family object (not a factory). */
export const meanFamilyObject = new MeanFamily({ k: 4 });

/** Lacks most of the interface. */
export const broken = { name: 'broken', params: {}, key: () => 'broken', fit: () => undefined };

/** Has every member, but answers wrongly. */
export const liar = Object.assign(new MeanFamily(), { paramCount: () => -1, paramNames: () => ['only-one'] });

/** Fits with the wrong number of parameters: loads fine, fails each row it fits. */
export function shortParams(): ModelFamily<MeanParams> {
  const family = new MeanFamily();
  const fit = family.fit.bind(family);
  return Object.assign(family, { fit: (train: Float64Array) => ({ ...fit(train), params: Float64Array.of(1) }) });
}

export function exploding(): never {
  throw new Error('this family needs a GPU');
}
