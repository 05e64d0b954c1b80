// The model store bench:serve serves: one group of AR(8) models (250,000 by default), built once and cached
// under bench/.data/serve. The models are made, not trained: serving cost depends on the family and the
// number of models, not on how the coefficients were found (bench:many measures training).
import { join } from 'node:path';
import { ModelStore, type ModelRecord } from '@loom/models';

export const GROUP = 'fleet';
export const P = 8;
const BATCH = 25_000;

/** Model `s<i>`: a stable AR(8) (coefficients summing below 1), sigma 1. */
export function fleetRecord(index: number): ModelRecord {
  const params = new Float64Array(P + 2);
  params[0] = (index % 100) / 10;
  for (let k = 1; k <= P; k++) params[k] = 0.5 / (k + 1) + ((index * k) % 7) / 200;
  params[P + 1] = 1 + (index % 5) / 10;
  return {
    id: `s${index}`,
    family: 'ar',
    familyKey: `ar(p=${P},d=0,k=3)`,
    params,
    trainRange: { from: 0, to: 600 * 3_600_000 },
    testRange: { from: 600 * 3_600_000, to: 720 * 3_600_000 },
    metrics: { trainPoints: 600, testPoints: 120, trainRmse: 1, trainMae: 0.8, testRmse: 1, testMae: 0.8, anomalies: 0, anomalyRate: 0, trainMs: 0.02 },
    extra: { database: `db${Math.floor(index / 50)}` },
  };
}

/** The forecast `fleetRecord(index)` makes after `row` (oldest first). */
export function fleetForecast(index: number, row: readonly number[]): number {
  const params = fleetRecord(index).params;
  let forecast = params[0] as number;
  for (let k = 1; k <= P; k++) forecast += (params[k] as number) * (row[row.length - k] as number);
  return forecast;
}

/** The store with the group of `models`, built when missing (or of another size). */
export async function fleetStore(dataDir: string, models: number, log: (message: string) => void): Promise<{ store: ModelStore; cached: boolean }> {
  const store = await ModelStore.open(join(dataDir, `store-${models}`));
  if ((await store.current(GROUP)) !== undefined) return { store, cached: true };
  const started = performance.now();
  const writer = await store.writer(GROUP);
  for (let from = 0; from < models; from += BATCH) {
    const to = Math.min(models, from + BATCH);
    await writer.writeBatch(`b${from}`, Array.from({ length: to - from }, (_, i) => fleetRecord(from + i)));
  }
  await writer.publish();
  log(`built a group of ${models.toLocaleString('en')} models in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { store, cached: false };
}
