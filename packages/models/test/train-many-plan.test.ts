// Planning trainMany's batches without a cluster: slices packed by source into a bounded number of batches
// (each source read by one batch unless it is too big for one), keys that depend on the inputs only; the
// window of batches in flight; the range and ordering helpers the task's readers rest on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ar, arima, familySpec, lstm, Split, type ModelFamily, type SplitSlice } from '../src/index.js';
import { planBatches, type PlannedBatch } from '../src/train-many/plan-batches.js';
import { MODELS_PER_CALL } from '../src/families/lstm/fit-batch.js';
import { runWindowed } from '../src/train-many/batch-window.js';
import { coarsened, inTimeOrder, lowerBound, unionOfRanges } from '../src/tasks/source-data.js';
import { random } from './train-many-fleet.js';

const HOUR = 3_600_000;

/** `tables` database tables of `columns` metrics each, one month hourly: train 3 weeks, test 1. */
function fleetSplit(tables: number, columns: number, shift = (_: number) => 0): Split {
  const slices: SplitSlice[] = [];
  for (let t = 0; t < tables; t++) {
    for (let c = 0; c < columns; c++) {
      const i = slices.length;
      const at = shift(i);
      slices.push({
        id: `db${t}.m${c}`,
        row: i + 1,
        source: { kind: 'database', database: `db${t}`, table: 'metrics' },
        sourceKey: JSON.stringify(['database', `db${t}`, 'metrics']),
        column: `m${c}`,
        rangeKind: 'timestamp',
        trainRange: { from: at, to: at + 504 * HOUR },
        testRange: { from: at + 504 * HOUR, to: at + 720 * HOUR },
        extra: {},
      });
    }
  }
  return new Split({ shape: 'database', timeColumn: 'ts', slices, extraColumns: [], origin: 'test' });
}

function plan(split: Split, family: ModelFamily = ar({ p: 8 }), batchSeconds = 0.5): PlannedBatch[] {
  return planBatches(split, { family: familySpec(family), familyKey: family.key(), timeColumn: 'ts', batchSeconds, pointsPerSlice: 720 });
}

/** Source keys of a batch in the order its slices meet them, one entry per contiguous run. */
function runsOf(batch: PlannedBatch): string[] {
  return batch.slices.map((slice) => slice.sourceKey).filter((key, i, keys) => i === 0 || key !== keys[i - 1]);
}

test('10,000 slices of 200 tables: a handful of batches, each table read by exactly one batch, every slice once', () => {
  const split = fleetSplit(200, 50);
  const batches = plan(split);
  assert.ok(batches.length >= 8 && batches.length <= 40, `${batches.length} batches`);
  const seen = batches.flatMap((batch) => batch.slices.map((slice) => slice.id));
  assert.equal(seen.length, split.size);
  assert.equal(new Set(seen).size, split.size);
  const readers = new Map<string, number>();
  for (const batch of batches) {
    const runs = runsOf(batch);
    assert.equal(new Set(runs).size, runs.length, 'the slices of a source are contiguous in a batch');
    for (const key of runs) readers.set(key, (readers.get(key) ?? 0) + 1);
  }
  assert.equal(readers.size, 200);
  assert.ok([...readers.values()].every((count) => count === 1), 'no table is split across batches');
});

test('a source too big for one batch is cut into pieces of about the target size, each its own batch', () => {
  const split = fleetSplit(1, 30_000);
  const batches = plan(split, arima({ p: 2, q: 1 }));
  assert.ok(batches.length >= 8, `${batches.length} batches`);
  const sizes = batches.map((batch) => batch.slices.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `even pieces: ${sizes.join(', ')}`);
  for (const batch of batches) assert.equal(runsOf(batch).length, 1);
});

test('lstm batches hold a full onnxruntime call of models (MODELS_PER_CALL), however long that is estimated to take', () => {
  const batches = plan(fleetSplit(100, 10), lstm({ window: 24, hidden: 16 }));
  assert.ok(batches.length >= 2, `${batches.length} batches`);
  const sizes = batches.map((batch) => batch.slices.length);
  assert.ok(sizes.slice(0, -1).every((size) => size >= MODELS_PER_CALL), `${sizes.length} batches, the smallest of ${Math.min(...sizes)} slices`);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 1000);
});

test('batch keys depend only on the inputs: same plan twice, new keys for a new family, one new key for one changed slice', () => {
  const split = fleetSplit(40, 20);
  const keys = plan(split).map((batch) => batch.key);
  assert.deepEqual(plan(split).map((batch) => batch.key), keys);
  assert.equal(new Set(keys).size, keys.length);
  const other = plan(split, ar({ p: 4 })).map((batch) => batch.key);
  assert.ok(other.every((key) => !keys.includes(key)), 'a different family changes every key');
  const moved = plan(fleetSplit(40, 20, (i) => (i === 5 ? HOUR : 0))).map((batch) => batch.key);
  assert.equal(moved.length, keys.length);
  assert.equal(moved.filter((key, b) => key !== keys[b]).length, 1, 'only the batch of the changed slice');
});

test('runWindowed keeps at most `window` jobs in flight and runs each once', async () => {
  let inFlight = 0;
  let most = 0;
  const ran: number[] = [];
  await runWindowed(Array.from({ length: 40 }, (_, i) => i), 3, async (i) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((resolve) => setTimeout(resolve, i % 4));
    ran.push(i);
    inFlight--;
  });
  assert.equal(most, 3);
  assert.deepEqual([...ran].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
});

test('runWindowed: after a failure no job starts, the running ones finish, then the failure is thrown', async () => {
  const started: number[] = [];
  const finished: number[] = [];
  await assert.rejects(
    runWindowed(Array.from({ length: 50 }, (_, i) => i), 4, async (i) => {
      started.push(i);
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (i === 10) throw new Error('batch 10 failed');
      finished.push(i);
    }),
    /batch 10 failed/,
  );
  assert.ok(started.length <= 14, `${started.length} started`);
  assert.deepEqual([...finished].sort((a, b) => a - b), started.filter((i) => i !== 10).sort((a, b) => a - b), 'every started job finished');
});

test('unionOfRanges and coarsened: merged, ascending, covering every range, at most `limit` (seeded)', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const next = random(seed);
    const count = 1 + Math.floor(next() * 40);
    const ranges = new Float64Array(4 * count);
    for (let i = 0; i < ranges.length; i += 2) {
      const from = Math.floor(next() * 1000);
      ranges[i] = from;
      ranges[i + 1] = from + Math.floor(next() * 30); // zero-width ranges included
    }
    const union = unionOfRanges(ranges, 0, count);
    const limited = coarsened(union, 5);
    for (const spans of [union, limited]) {
      for (let k = 1; k < spans.length; k++) assert.ok(spans[k]![0] > spans[k - 1]![1], `seed ${seed}: disjoint and ascending`);
      for (let i = 0; i < ranges.length; i += 2) {
        if (ranges[i + 1]! <= ranges[i]!) continue;
        assert.ok(spans.some(([from, to]) => from <= ranges[i]! && ranges[i + 1]! <= to), `seed ${seed}: range ${i / 2} covered`);
      }
    }
    assert.ok(limited.length <= 5, `seed ${seed}`);
  }
});

test('inTimeOrder sorts rows by time (stable), drops rows without a time, and leaves ordered data as it is', () => {
  const times = Float64Array.of(3, 1, NaN, 2, 1);
  const values = Float64Array.of(30, 10, 99, 20, 11);
  const ordered = inTimeOrder(times, [values, { code: 'MISSING_COLUMN', message: 'x' }]);
  assert.deepEqual([...ordered.times], [1, 1, 2, 3]);
  assert.deepEqual([...(ordered.columns[0] as Float64Array)], [10, 11, 20, 30]);
  assert.deepEqual(ordered.columns[1], { code: 'MISSING_COLUMN', message: 'x' });
  const sorted = Float64Array.of(1, 2, 2, 5);
  assert.equal(inTimeOrder(sorted, []).times, sorted);
  assert.deepEqual([0, 1, 2, 5, 6].map((t) => lowerBound(sorted, t)), [0, 0, 1, 3, 4]);
});
