// The scoring pass of an infer request: every id looked up in the loaded version (O(1) each), then one
// `predict` call per id over its row of recent values, into preallocated output columns.
//
// For a row y[0..t-1] and the model m of its id:
//   forecast, lower, upper  the model's one-step-ahead forecast of the next value y[t] and its band, given y[0..t-1];
//   anomaly                 whether the last value y[t-1] lies outside the band the model forecast for it from
//                           y[0..t-2] (the forecast made just before it was seen), as `score` flags test values.
// Both come from one predict(m, history = y[0..t-2], test = [y[t-1], y[t-1]]): a family forecasts each test
// value from the values before it only (the ModelFamily contract), so the second test value, a placeholder for
// the unseen y[t], does not change its own forecast.
import { isFamilyError, type ModelFamily, type Prediction } from '@loom/models';
import type { InferRequest } from './infer-request.js';
import type { LoadedGroup } from './loaded-group.js';
import { badInput, ServeError } from './serve-error.js';

export interface Scores {
  readonly forecast: Float64Array;
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  /** 1 where the last value was an anomaly. */
  readonly anomaly: Uint8Array;
}

/** Unknown ids named in a 404, at most this many (and how many more). */
const UNKNOWN_NAMED = 10;

const out: Prediction = { predicted: new Float64Array(2), lower: new Float64Array(2), upper: new Float64Array(2) };
const test = new Float64Array(2);
const testTimes = new Float64Array(2);

export function scoreIds(loaded: LoadedGroup, request: InferRequest): Scores {
  const { ids, values, points, times, forecastTimes } = request;
  const n = ids.length;
  const models: Float64Array[] = new Array<Float64Array>(n);
  const families: ModelFamily[] = new Array<ModelFamily>(n);
  const unknown: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = ids[i] as string;
    const params = loaded.models.params(id);
    if (params === undefined) {
      unknown.push(id);
      continue;
    }
    models[i] = params;
    families[i] = loaded.familyOf(id);
  }
  if (unknown.length > 0) {
    const named = unknown.slice(0, UNKNOWN_NAMED).map((id) => JSON.stringify(id.slice(0, 200))).join(', ');
    const more = unknown.length > UNKNOWN_NAMED ? ` and ${unknown.length - UNKNOWN_NAMED} more` : '';
    throw new ServeError('UNKNOWN_MODEL', `group ${loaded.name} version ${loaded.version} has no model ${named}${more}`);
  }
  if (times !== undefined && forecastTimes === undefined && points < 2) {
    throw badInput('forecast_times', 'needed when each row has one value: the time of the forecast cannot be inferred from one time stamp');
  }
  const scores: Scores = { forecast: new Float64Array(n), lower: new Float64Array(n), upper: new Float64Array(n), anomaly: new Uint8Array(n) };
  const history = points - 1;
  for (let i = 0; i < n; i++) {
    const family = families[i] as ModelFamily;
    if (history < family.historyPoints()) {
      throw badInput('values', `model ${JSON.stringify(ids[i])} (${family.key()}) needs at least ${family.historyPoints() + 1} values per row (its history and the last value), got ${points}`);
    }
    const start = i * points;
    const last = values[start + history] as number;
    test[0] = last;
    test[1] = last;
    let options: { out: Prediction; historyTimes?: Float64Array; testTimes?: Float64Array } = { out };
    if (times !== undefined) {
      const lastTime = times[start + history] as number;
      testTimes[0] = lastTime;
      testTimes[1] = forecastTimes !== undefined ? (forecastTimes[i] as number) : 2 * lastTime - (times[start + history - 1] as number);
      options = { out, historyTimes: times.subarray(start, start + history), testTimes };
    }
    try {
      family.predict(models[i] as Float64Array, values.subarray(start, start + history), test, options);
    } catch (error) {
      throw predictError(error, ids[i] as string, loaded);
    }
    const forecast = out.predicted[1] as number;
    const lower = out.lower[1] as number;
    const upper = out.upper[1] as number;
    if (!Number.isFinite(forecast) || !Number.isFinite(lower) || !Number.isFinite(upper)) {
      throw badInput('values', `the forecast of model ${JSON.stringify(ids[i])} is not finite: its row's values are too large for the model`);
    }
    scores.forecast[i] = forecast;
    scores.lower[i] = lower;
    scores.upper[i] = upper;
    scores.anomaly[i] = last < (out.lower[0] as number) || last > (out.upper[0] as number) ? 1 : 0;
  }
  return scores;
}

/** A family's complaint about the request's data is the client's to fix (400); about the stored model, ours (500). */
function predictError(error: unknown, id: string, loaded: LoadedGroup): unknown {
  if (!isFamilyError(error)) return error;
  const which = `model ${JSON.stringify(id)}`;
  switch (error.code) {
    case 'TOO_SHORT':
    case 'NON_FINITE':
      return badInput('values', `${which}: ${error.message}`);
    case 'BAD_TIMES':
      return badInput('times', `${which}: ${error.message}`);
    default:
      return new ServeError('MODEL_UNAVAILABLE', `${which} of group ${loaded.name} version ${loaded.version} cannot be scored: ${error.message}`, { cause: error });
  }
}
