// bench:many's correctness checks, so a fast wrong answer cannot pass for a result: a stored model must equal
// evaluate() on the same generated values, bit for bit, and an ar model's coefficients and sigma must agree with
// the NumPy baseline's and statsmodels' AutoReg to 1e-6 (relative to the largest coefficient). Models trained
// together (lstm) are checked by scoring the stored weights again here: same anomalies, same test error.
import { evaluate, score, type ModelFamily, type StoredModel } from '@loom/models';
import { fillSeries, METRICS, seriesId, type FleetShape } from './many-fleet.js';

/** Rows of the fleet (series in split order) to check: the corners and a seeded spread, below `limit`. */
export function checkRows(limit: number, count = 12): number[] {
  const rows = new Set([0, 1, METRICS.length - 1, METRICS.length, limit - 1]);
  for (let i = 1; rows.size < Math.min(count, limit); i++) rows.add(Math.floor((i * 0.6180339887498949 * limit) % limit));
  return [...rows].filter((row) => row >= 0 && row < limit).sort((a, b) => a - b);
}

export const idOfRow = (row: number): string => seriesId(Math.floor(row / METRICS.length), row % METRICS.length);

function seriesOf(shape: FleetShape, row: number): { train: Float64Array; test: Float64Array } {
  const values = new Float64Array(shape.hours);
  fillSeries(shape.seed, row, values);
  return { train: values.subarray(0, shape.trainHours), test: values.subarray(shape.trainHours) };
}

/** The model evaluate() gives series `row` in this process. */
export function expectedModel(shape: FleetShape, family: ModelFamily, row: number) {
  return evaluate(family, seriesOf(shape, row));
}

/** Throws unless each stored model, scored here on its series, gives its stored anomalies and test RMSE (1e-9). */
export function checkRescored(name: string, shape: FleetShape, family: ModelFamily, stored: Map<string, StoredModel>, rows: readonly number[]): number {
  let checked = 0;
  for (const row of rows) {
    const model = stored.get(idOfRow(row));
    if (model === undefined) continue;
    const { train, test } = seriesOf(shape, row);
    const scored = score(family, model.params, train, test);
    let squares = 0;
    for (let j = 0; j < test.length; j++) squares += (test[j]! - scored.predicted[j]!) ** 2;
    const rmse = Math.sqrt(squares / test.length);
    const anomalies = scored.anomalies.reduce((sum, flag) => sum + flag, 0);
    if (!(Math.abs(rmse - model.metrics.testRmse) <= 1e-9 * rmse) || anomalies !== model.metrics.anomalies) {
      throw new Error(`${name}: ${model.id} scored again gives test RMSE ${rmse} and ${anomalies} anomalies, the store has ${model.metrics.testRmse} and ${model.metrics.anomalies}`);
    }
    checked++;
  }
  if (checked === 0) throw new Error(`${name}: none of the checked ids was stored`);
  return checked;
}

/** Throws unless each stored model equals evaluate() on its series exactly; returns how many were checked. */
export function checkAgainstEvaluate(name: string, shape: FleetShape, family: ModelFamily, stored: Map<string, StoredModel>, rows: readonly number[]): number {
  let checked = 0;
  for (const row of rows) {
    const model = stored.get(idOfRow(row));
    if (model === undefined) continue;
    const expected = expectedModel(shape, family, row);
    const same = model.params.length === expected.params.length && model.params.every((value, i) => Object.is(value, expected.params[i]));
    if (!same || !Object.is(model.metrics.testRmse, expected.metrics.testRmse)) {
      throw new Error(`${name}: stored model ${model.id} differs from evaluate() on the same values: [${[...model.params].join(', ')}] vs [${[...expected.params].join(', ')}]`);
    }
    checked++;
  }
  if (checked === 0) throw new Error(`${name}: none of the checked ids was stored`);
  return checked;
}

/** max |a - b| / max |b|: agreement of two coefficient vectors, blind to which entries are near zero. */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale > 0 ? diff / scale : diff;
}

export const AGREEMENT = 1e-6;

/** The worst disagreement of the stored models with a reference's coefficients; throws past AGREEMENT. */
export function checkAgainstReference(name: string, reference: string, stored: Map<string, StoredModel>, coefficients: Map<number, number[]>): number {
  let worst = 0;
  for (const [row, expected] of coefficients) {
    const model = stored.get(idOfRow(row));
    if (model === undefined) continue;
    const difference = relativeDifference(model.params, expected);
    if (!(difference <= AGREEMENT)) throw new Error(`${name}: ${model.id} differs from ${reference} by ${difference.toExponential(2)}: [${[...model.params].join(', ')}] vs [${expected.join(', ')}]`);
    worst = Math.max(worst, difference);
  }
  return worst;
}
