// trainMany when things die: the client process SIGKILLed after some batches are staged (the re-run resumes
// the stage and runs only the batches it lacks), and a worker SIGKILLed mid-run (its batches are recomputed;
// the store ends with every model exactly once). A family that spins per fit keeps the run long enough.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ar, loadFamily, ModelStore, readSplit, trainMany, type ModelGroup, type Split } from '../src/index.js';
import { useLocalCluster } from './train-many-cluster.js';
import { expectedModel, fleetSource, HOUR, START, writeParquet, writeSplit, type FleetSource } from './train-many-fleet.js';
import { tempDir } from './store-helpers.js';

const fixture = useLocalCluster();
const dir = tempDir('train-faults');
const slowFamily = { module: fileURLToPath(new URL('./train-many-fixtures/slow-ar.js', import.meta.url)), export: 'slowAr', params: { p: 2, spinMs: 4 } };
/** What the spinning fit costs per slice, in values, so batches are planned at their real size. */
const pointsPerSlice = 7_500;
const sources: FleetSource[] = Array.from({ length: 50 }, (_, f) => fleetSource(`f${f}`, Array.from({ length: 10 }, (_, m) => `m${m}`), 100, 300 + f));
const h = (hours: number): number => START + hours * HOUR;
const splitPath = join(dir, 'split.csv');
sources.forEach((source) => writeParquet(join(dir, `${source.name}.parquet`), source));
writeSplit(splitPath, sources.flatMap((source) => [...source.values.keys()].map((metric) => ({
  id: `${source.name}.${metric}`, file: `${source.name}.parquet`, column: metric, train_from: h(0), train_to: h(80), test_from: h(80), test_to: h(100),
}))));

/** Every slice's model is in the group once, equal to ar's on the same values. */
function assertComplete(group: ModelGroup, split: Split): void {
  assert.equal(group.size, split.size);
  assert.deepEqual([...group.ids].sort(), split.slices.map((slice) => slice.id).sort());
  const family = ar({ p: 2 });
  for (const source of sources.filter((_, f) => f % 7 === 0)) {
    const expected = expectedModel(family, source, 'm3', { from: h(0), to: h(80) }, { from: h(80), to: h(100) });
    assert.deepEqual([...(group.params(`${source.name}.m3`) as Float64Array)], [...expected.params]);
  }
}

test('a client killed mid-run: the re-run resumes the stage, runs only the missing batches, and the store is complete', async () => {
  const storeDir = join(dir, 'resume-store');
  const args = { address: fixture.cluster.address, split: splitPath, store: storeDir, group: 'resume', family: slowFamily, pointsPerSlice };
  const child = spawn(process.execPath, [fileURLToPath(new URL('./train-many-fixtures/train-child.js', import.meta.url)), JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const staged: string[] = [];
  let finished = false;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line.startsWith('done')) finished = true;
    if (!line.startsWith('staged ')) return;
    staged.push(line.slice('staged '.length));
    if (staged.length === 2) child.kill('SIGKILL');
  });
  await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(finished, false, 'the run was killed before it finished');
  assert.ok(staged.length >= 2, `${staged.length} batches staged before the kill`);

  const store = await ModelStore.open(storeDir);
  const split = await readSplit(splitPath);
  const ran: string[] = [];
  const run = await trainMany(fixture.client, { split, family: await loadFamily(slowFamily), store, group: 'resume', pointsPerSlice, onProgress: (p) => p.batch !== undefined && ran.push(p.batch) });
  assert.ok(run.batches.resumed >= staged.length, `${run.batches.resumed} batches resumed, ${staged.length} staged`);
  assert.equal(run.batches.resumed + run.batches.ran, run.batches.total);
  assert.equal(ran.length, run.batches.ran);
  assert.equal(new Set(ran).size, ran.length, 'no batch ran twice');
  assert.deepEqual(ran.filter((key) => staged.includes(key)), [], 'no staged batch ran again');
  assert.deepEqual({ version: run.version, trained: run.trained, failed: run.failed }, { version: 1, trained: split.size, failed: [] });
  assertComplete(await store.open('resume'), split);
});

test('a worker SIGKILLed mid-run: its batches are recomputed, the store holds every model exactly once', async () => {
  const store = await ModelStore.open(join(dir, 'kill-store'));
  const split = await readSplit(splitPath);
  let doneAtKill: number | undefined;
  const run = await trainMany(fixture.client, {
    split,
    family: await loadFamily(slowFamily),
    store,
    group: 'kill',
    pointsPerSlice,
    onProgress: (p) => {
      if (doneAtKill !== undefined || p.batches.done < 2) return;
      doneAtKill = p.done;
      void fixture.cluster.killWorker(0, 'SIGKILL');
    },
  });
  assert.ok(doneAtKill !== undefined && doneAtKill < split.size, `killed after ${doneAtKill} of ${split.size} slices`);
  assert.equal(fixture.cluster.workers.length, 1);
  assert.deepEqual({ trained: run.trained, failed: run.failed, ran: run.batches.ran }, { trained: split.size, failed: [], ran: run.batches.total });
  assertComplete(await store.open('kill'), split);
});
