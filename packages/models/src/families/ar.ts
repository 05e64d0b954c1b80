// `ar({ p, d, k })`: autoregression of order p with intercept on the d-times differenced series, fit by
// least squares (the same estimator as statsmodels' AutoReg(trend='c')), with a +-k sigma anomaly band.
//
// Packed model (p + 2 numbers): [const, phi_1, ..., phi_p, sigma], on the differenced scale, where
//   w[t] = const + phi_1 w[t-1] + ... + phi_p w[t-p] + e[t],   w = diff(y, d),
// and sigma = sqrt(ssr / nobs) with nobs = len(w) - p: statsmodels' `sigma2` (no degrees-of-freedom correction).
import { differenceInto, grown } from './differencing.js';
import type { FitResult, ModelFamily, PredictOptions, Prediction } from './family.js';
import { LagRegression } from './lag-regression.js';
import { predictionBuffers } from './prediction-buffers.js';
import { assertFinite, assertLength, assertModel, integerParam, positiveParam } from './series-checks.js';

export interface ArParams {
  /** Autoregressive order (number of lags), 0..64. */
  readonly p: number;
  /** Times the series is differenced before the regression (0, 1 or 2). Default 0. */
  readonly d?: number;
  /** Band half-width in residual standard deviations. Default 3. */
  readonly k?: number;
}

export type ArFamily = ModelFamily<Required<ArParams>>;

export function ar(params: ArParams): ArFamily {
  return new Autoregression(params);
}

export class Autoregression implements ArFamily {
  readonly name = 'ar';
  readonly params: Readonly<Required<ArParams>>;
  private readonly regression = new LagRegression();
  private differenced = new Float64Array(0);
  private joined = new Float64Array(0);

  constructor(params: ArParams) {
    this.params = Object.freeze({
      p: integerParam(params?.p, 'p', 'ar', 0, 64),
      d: integerParam(params?.d, 'd', 'ar', 0, 2, 0),
      k: positiveParam(params?.k, 'k', 'ar', 3),
    });
  }

  key(): string {
    const { p, d, k } = this.params;
    return `ar(p=${p},d=${d},k=${k})`;
  }

  paramCount(): number {
    return this.params.p + 2;
  }

  paramNames(): readonly string[] {
    return ['const', ...Array.from({ length: this.params.p }, (_, i) => `phi_${i + 1}`), 'sigma'];
  }

  /** d values lost to differencing, p to the first lags, and more regression rows than the p + 1 unknowns. */
  minTrainPoints(): number {
    const { p, d } = this.params;
    return d + 2 * p + 2;
  }

  historyPoints(): number {
    return this.params.p + this.params.d;
  }

  fit(train: Float64Array): FitResult {
    const { p, d } = this.params;
    assertFinite(train, 'training');
    assertLength(train.length, this.minTrainPoints(), 'the training series', this.key());
    let series = train;
    if (d > 0) {
      this.differenced = grown(this.differenced, train.length);
      differenceInto(train, train.length, d, this.differenced);
      series = this.differenced;
    }
    const model = new Float64Array(p + 2);
    const fit = this.regression.fit(series, train.length - d, p, model.subarray(1, p + 1));
    model[0] = fit.intercept;
    const sigma = Math.sqrt(fit.ssr / fit.nobs);
    model[p + 1] = sigma;
    // A one-step-ahead error on the levels equals the error on the differenced scale, so these hold for y.
    return { params: model, trainPoints: train.length, trainRmse: sigma, trainMae: fit.sae / fit.nobs };
  }

  predict(model: Float64Array, history: Float64Array, test: Float64Array, options?: PredictOptions): Prediction {
    const { p, d, k } = this.params;
    assertModel(model, p + 2, this.key());
    assertLength(history.length, p + d, 'the history before the test range', this.key());
    assertFinite(history, 'history');
    assertFinite(test, 'test');
    const m = test.length;
    const lead = p + d;
    // Differencing the last p + d history values followed by the test values gives p lags, then the m targets.
    this.joined = grown(this.joined, lead + m);
    this.joined.set(history.subarray(history.length - lead), 0);
    this.joined.set(test, lead);
    this.differenced = grown(this.differenced, lead + m);
    const w = this.differenced;
    differenceInto(this.joined, lead + m, d, w);
    const out = predictionBuffers(options?.out, m);
    const intercept = model[0]!;
    const half = k * model[p + 1]!;
    for (let j = 0; j < m; j++) {
      const t = p + j;
      let forecast = intercept;
      for (let i = 0; i < p; i++) forecast += model[1 + i]! * w[t - 1 - i]!;
      // Undifferencing: the level forecast is the actual level minus the one-step error on the differenced scale.
      const predicted = d === 0 ? forecast : test[j]! - (w[t]! - forecast);
      out.predicted[j] = predicted;
      out.lower[j] = predicted - half;
      out.upper[j] = predicted + half;
    }
    return out;
  }
}
