// Each drift method on a generated fleet with known drift (drift-fleet.ts): two years of daily training
// values and 90 recent days per series; 100 series each with a 2-sigma level shift, doubled noise, or the
// weekly peak moved by half a week, and 700 untouched. The issue's targets, at the methods' default
// settings: recall >= 0.95 on the level shifts and false-positive rate <= 1 % on the untouched series (ks
// with Bonferroni across the fleet). The variance and seasonality changes have no target; their recall is
// printed. psi (drifted above both 0.1 and its lag-1-corrected chi-square critical value) is also held to
// the targets at 60 recent days; at 30 its level-shift recall falls to 0.93-0.97 and page-hinkley's to
// about 0.2 (README, Drift), so 30 is not asserted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bonferroni, driftStatistic, type DriftMethod } from '../src/drift/index.js';
import { generateFleet, type DriftKind, type FleetSeries } from './drift-fleet.js';

const SEED = 16;
const fleets = new Map<number, FleetSeries[]>();
function fleetOf(recentLength: number): FleetSeries[] {
  let fleet = fleets.get(recentLength);
  if (fleet === undefined) fleets.set(recentLength, (fleet = generateFleet({ seed: SEED, perKind: 100, untouched: 700, trainLength: 730, recentLength })));
  return fleet;
}

function flagRates(method: DriftMethod, recentLength: number): Record<DriftKind, number> {
  const fleet = fleetOf(recentLength);
  const ksAlpha = bonferroni(0.05, fleet.length);
  const flagged: Record<DriftKind, number> = { none: 0, 'level-shift': 0, variance: 0, seasonality: 0 };
  const counts: Record<DriftKind, number> = { none: 0, 'level-shift': 0, variance: 0, seasonality: 0 };
  for (const series of fleet) {
    const outcome = driftStatistic(method, inputOf(series));
    const drifted = method === 'ks' ? outcome.pValue! < ksAlpha : outcome.drifted;
    counts[series.kind]++;
    if (drifted) flagged[series.kind]++;
  }
  const rates = { ...flagged };
  for (const kind of Object.keys(rates) as DriftKind[]) rates[kind] = flagged[kind] / counts[kind];
  console.log(
    `${method} (seed ${SEED}, ${recentLength} recent): recall level-shift ${rates['level-shift'].toFixed(2)}, variance ${rates.variance.toFixed(2)}, ` +
      `seasonality ${rates.seasonality.toFixed(2)}; false-positive rate ${(100 * rates.none).toFixed(2)} %`,
  );
  return rates;
}

function inputOf(series: FleetSeries) {
  return {
    reference: series.reference,
    recent: series.recent,
    residuals: series.residuals,
    residualScale: series.residualScale,
    referenceResiduals: series.referenceResiduals,
  };
}

function assertTargets(method: DriftMethod, recentLength = 90): void {
  const rates = flagRates(method, recentLength);
  const where = `seed ${SEED}, ${recentLength} recent`;
  assert.ok(rates['level-shift'] >= 0.95, `${method}: recall at a 2-sigma level shift ${rates['level-shift']} < 0.95 (${where})`);
  assert.ok(rates.none <= 0.01, `${method}: false-positive rate ${rates.none} > 0.01 (${where})`);
}

test('ks with Bonferroni across the fleet meets the recall and false-positive targets', () => assertTargets('ks'));

test('page-hinkley on standardized residuals meets the recall and false-positive targets', () => assertTargets('page-hinkley'));

test('psi above 0.1 and its critical value meets the recall and false-positive targets at 90 recent days', () => assertTargets('psi', 90));

test('psi above 0.1 and its critical value meets the recall and false-positive targets at 60 recent days', () => assertTargets('psi', 60));
