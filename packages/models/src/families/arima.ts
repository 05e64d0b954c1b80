// `arima({ p, d, q, k })`: ARIMA fit by conditional sum of squares on the d-times differenced series, with a
// mean when d = 0 and none when d > 0 (statsmodels' ARIMA defaults), and a +-k sigma anomaly band.
//
// Packed model (p + q + 2 numbers): [mu, phi_1..phi_p, theta_1..theta_q, sigma], on the differenced scale:
//   (w[t] - mu) = sum phi_i (w[t-i] - mu) + e[t] + sum theta_j e[t-j],   w = diff(y, d),
// mu = 0 when d > 0, sigma = sqrt(CSS / (len(w) - p)). The AR part is stationary and the MA part invertible.
// Forecasts are one-step-ahead given the actual history: the residual recursion runs from the start of the
// history (errors before it taken as zero), so with q > 0 a longer history gives slightly better first forecasts.
import { armaResiduals, CssEstimator } from './arima-css.js';
import { differenceInto, grown } from './differencing.js';
import { FamilyError } from './errors.js';
import type { FitResult, ModelFamily, PredictOptions, Prediction } from './family.js';
import { predictionBuffers } from './prediction-buffers.js';
import { assertFinite, assertLength, assertModel, integerParam, isConstant, positiveParam } from './series-checks.js';

export interface ArimaParams {
  /** Autoregressive order, 0..12. */
  readonly p: number;
  /** Times the series is differenced, 0..2. Default 0. */
  readonly d?: number;
  /** Moving-average order, 0..12. Default 0. */
  readonly q?: number;
  /** Band half-width in residual standard deviations. Default 3. */
  readonly k?: number;
}

export type ArimaFamily = ModelFamily<Required<ArimaParams>>;

export function arima(params: ArimaParams): ArimaFamily {
  return new Arima(params);
}

export class Arima implements ArimaFamily {
  readonly name = 'arima';
  readonly params: Readonly<Required<ArimaParams>>;
  private readonly estimator = new CssEstimator();
  private differenced = new Float64Array(0);
  private joined = new Float64Array(0);
  private residuals = new Float64Array(0);

  constructor(params: ArimaParams) {
    this.params = Object.freeze({
      p: integerParam(params?.p, 'p', 'arima', 0, 12),
      d: integerParam(params?.d, 'd', 'arima', 0, 2, 0),
      q: integerParam(params?.q, 'q', 'arima', 0, 12, 0),
      k: positiveParam(params?.k, 'k', 'arima', 3),
    });
  }

  key(): string {
    const { p, d, q, k } = this.params;
    return `arima(p=${p},d=${d},q=${q},k=${k})`;
  }

  paramCount(): number {
    return this.params.p + this.params.q + 2;
  }

  paramNames(): readonly string[] {
    const { p, q } = this.params;
    return ['mu', ...Array.from({ length: p }, (_, i) => `phi_${i + 1}`), ...Array.from({ length: q }, (_, j) => `theta_${j + 1}`), 'sigma'];
  }

  /** Enough differenced values for the long autoregression that starts the fit and for the CSS itself. */
  minTrainPoints(): number {
    const { p, d, q } = this.params;
    return d + 3 * (p + q) + 10;
  }

  historyPoints(): number {
    return this.params.p + this.params.d;
  }

  fit(train: Float64Array): FitResult {
    const { p, d, q } = this.params;
    assertFinite(train, 'training');
    assertLength(train.length, this.minTrainPoints(), 'the training series', this.key());
    this.differenced = grown(this.differenced, train.length);
    const n = differenceInto(train, train.length, d, this.differenced);
    if (isConstant(this.differenced, n)) {
      throw new FamilyError('SINGULAR', d === 0 ? 'the series is constant: its ARMA fit is singular' : `the ${d}-times differenced series is constant: its ARMA fit is singular`);
    }
    const model = new Float64Array(p + q + 2);
    const fit = this.estimator.fit(this.differenced, n, { p, q, withMean: d === 0 }, model);
    const sigma = Math.sqrt(fit.css / fit.terms);
    model[p + q + 1] = sigma;
    return { params: model, trainPoints: train.length, trainRmse: sigma, trainMae: fit.sae / fit.terms };
  }

  predict(model: Float64Array, history: Float64Array, test: Float64Array, options?: PredictOptions): Prediction {
    const { p, d, q, k } = this.params;
    assertModel(model, p + q + 2, this.key());
    assertLength(history.length, p + d, 'the history before the test range', this.key());
    assertFinite(history, 'history');
    assertFinite(test, 'test');
    const h = history.length;
    const m = test.length;
    this.joined = grown(this.joined, h + m);
    this.joined.set(history, 0);
    this.joined.set(test, h);
    this.differenced = grown(this.differenced, h + m);
    const n = differenceInto(this.joined, h + m, d, this.differenced);
    this.residuals = grown(this.residuals, n);
    armaResiduals(this.differenced, n, p, q, model, this.residuals);
    const out = predictionBuffers(options?.out, m);
    const half = k * model[p + q + 1]!;
    const first = h - d; // index in the differenced series of the first test value
    for (let j = 0; j < m; j++) {
      // The one-step forecast is the actual value minus its one-step error, on either scale.
      const predicted = test[j]! - this.residuals[first + j]!;
      out.predicted[j] = predicted;
      out.lower[j] = predicted - half;
      out.upper[j] = predicted + half;
    }
    return out;
  }
}
