// trainMany's run logic with the tasks run in this process (a stand-in client that calls trainBatch itself): a
// batch whose task fails stops the run with BATCH_FAILED and keeps the stage, so the same call resumes it in the
// same process, reporting the failures of batches it does not run again; a run where every slice fails
// publishes nothing; a database without a connection string stops the run before any task is submitted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Future } from '@loom/client';
import { ar, isTrainManyError, ModelStore, readSplit, trainMany, type TrainClient } from '../src/index.js';
import { trainBatch } from '../src/tasks/index.js';
import type { BatchSpec } from '../src/train-many/batch-wire.js';
import { fleetSource, HOUR, START, writeParquet, writeSplit } from './train-many-fleet.js';
import { tempDir } from './store-helpers.js';

const dir = tempDir('train-resume');
const family = ar({ p: 2 });
const h = (hours: number): number => START + hours * HOUR;
const ranges = { train_from: h(0), train_to: h(80), test_from: h(80), test_to: h(100) };

/** A client whose tasks run trainBatch here; `fail(n)` says whether the n-th submitted task fails. */
function localClient(fail: (n: number) => boolean = () => false): { client: TrainClient; submitted: BatchSpec[] } {
  const submitted: BatchSpec[] = [];
  const client = {
    submitWith: (_options: unknown, _fn: unknown, spec: BatchSpec) => {
      const n = submitted.push(spec);
      const result = fail(n) ? Promise.reject(new Error(`task ${n} lost its worker three times`)) : trainBatch(spec);
      return { result: () => result, release: () => undefined } as unknown as Future<unknown>;
    },
    schedulerInfo: async () => ({ workers: [{ nthreads: 1 }] }),
  } as unknown as TrainClient;
  return { client, submitted };
}

test('a failed batch stops the run and keeps the stage; the same call then resumes it, failures of finished batches included', async () => {
  const files = Array.from({ length: 6 }, (_, f) => fleetSource(`r${f}`, ['a', 'b'], 100, 400 + f));
  for (const file of files) writeParquet(join(dir, `${file.name}.parquet`), file);
  // File r0 comes first and has neither column: its batches fail every slice and stage nothing.
  const rows = files.flatMap((file) => (file.name === 'r0' ? ['x', 'y'] : ['a', 'b']).map((column) => ({ id: `${file.name}.${column}`, file: `${file.name}.parquet`, column, ...ranges })));
  writeSplit(join(dir, 'split.csv'), rows);
  const split = await readSplit(join(dir, 'split.csv'));
  const store = await ModelStore.open(join(dir, 'store'));
  // Slices estimated so big that each is a batch of its own; one batch in flight, so the order is fixed.
  const options = { split, family, store, group: 'g', window: 1, pointsPerSlice: 10_000_000 };

  const first = localClient((n) => n === 4);
  await assert.rejects(trainMany(first.client, options), (error: unknown) => {
    assert.ok(isTrainManyError(error, 'BATCH_FAILED'), String(error));
    assert.match(error.message, /task 4 lost its worker three times.*run trainMany again with the same arguments to resume/s);
    return true;
  });
  assert.equal(await store.current('g'), undefined, 'nothing published');

  const second = localClient();
  const run = await trainMany(second.client, options);
  assert.equal(first.submitted.length, 4);
  assert.equal(run.batches.total, 12);
  assert.deepEqual({ resumed: run.batches.resumed, ran: run.batches.ran }, { resumed: 3, ran: 9 });
  assert.equal(second.submitted.length, run.batches.ran);
  assert.equal(run.trained, 10);
  assert.deepEqual(run.failed.map((f) => [f.id, f.code]).sort(), [['r0.x', 'MISSING_COLUMN'], ['r0.y', 'MISSING_COLUMN']]);
  const group = await store.open('g');
  assert.deepEqual([...group.ids].sort(), rows.map((row) => row.id).filter((id) => !id.startsWith('r0.')).sort());
});

test('every slice failing publishes nothing: NOTHING_TRAINED, naming the failures', async () => {
  writeParquet(join(dir, 'only.parquet'), fleetSource('only', ['a'], 100, 500));
  writeSplit(join(dir, 'bad.csv'), [{ id: 'bad', file: 'only.parquet', column: 'nope', ...ranges }]);
  const store = await ModelStore.open(join(dir, 'store-bad'));
  await assert.rejects(trainMany(localClient().client, { split: await readSplit(join(dir, 'bad.csv')), family, store, group: 'g' }), (error: unknown) => {
    assert.ok(isTrainManyError(error, 'NOTHING_TRAINED'), String(error));
    assert.match(error.message, /all 1 slices failed.*bad: MISSING_COLUMN: .*has no column "nope"/);
    return true;
  });
  assert.equal(await store.current('g'), undefined);
});

test('databases without a connection string, or an empty only, stop the run before any task', async () => {
  writeSplit(join(dir, 'db.csv'), ['east', 'west'].map((database) => ({ id: database, database, table: 'metrics', column: 'cpu', ...ranges })));
  const local = localClient();
  const store = await ModelStore.open(join(dir, 'store-db'));
  await assert.rejects(trainMany(local.client, { split: await readSplit(join(dir, 'db.csv')), family, store, group: 'g' }), (error: unknown) => {
    assert.ok(isTrainManyError(error, 'NO_CONNECTION'), String(error));
    assert.match(error.message, /database "east".*database "west"/);
    return true;
  });
  await assert.rejects(
    trainMany(local.client, { split: await readSplit(join(dir, 'db.csv')), family, store, group: 'g', connections: { east: 'postgres://x' } }),
    /unknown database "west"/,
  );
  await assert.rejects(trainMany(local.client, { split: await readSplit(join(dir, 'db.csv')), family, store, group: 'g', only: [] }), /only names no slice/);
  assert.equal(local.submitted.length, 0);
});
