// Model records for the store tests whose contents say which id and round they belong to, so a test can tell
// a stale or mixed-up record from the right one. (No node:test import: the kill test's child uses it too.)
import type { ModelRecord } from '../src/store/model-record.js';

/** AR(p)-shaped params (const, p coefficients, sigma): [round, index, index / 2, ...]. */
export function modelRecord(index: number, round = 1, p = 8, extra: Record<string, string> = { region: index % 2 === 0 ? 'eu' : 'us' }): ModelRecord {
  const params = new Float64Array(p + 2);
  params[0] = round;
  params[1] = index;
  for (let k = 2; k < params.length; k++) params[k] = index / k;
  return {
    id: `m${index}`,
    family: 'ar',
    familyKey: `ar(p=${p},d=0,k=3)`,
    params,
    trainRange: { from: index, to: index + 100 },
    testRange: { from: index + 100, to: index + 150 },
    metrics: {
      trainPoints: 100,
      testPoints: 50,
      trainRmse: 1 + index / 1000,
      trainMae: 0.5,
      testRmse: index % 7 === 0 ? NaN : 2,
      testMae: 1,
      anomalies: index % 5,
      anomalyRate: (index % 5) / 50,
      trainMs: 0.25,
    },
    extra,
  };
}

export function records(from: number, to: number, round = 1): ModelRecord[] {
  return Array.from({ length: to - from }, (_, i) => modelRecord(from + i, round));
}
