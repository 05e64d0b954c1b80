// The model store in one process: round trips, versions, carry-forward, prune, duplicate and invalid records,
// corruption found and named, and the errors of a store used wrongly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isModelStoreError, ModelStore, type ModelRecord, type ModelStoreErrorCode } from '../src/index.js';
import { tempDir } from './store-helpers.js';
import { modelRecord, records } from './store-records.js';

const root = tempDir('model-store');
let storeCount = 0;

async function freshStore(): Promise<ModelStore> {
  return ModelStore.open(join(root, `store-${storeCount++}`));
}

function rejectsWith(code: ModelStoreErrorCode, pattern?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(isModelStoreError(error, code), `expected ${code}, got ${String(error)}`);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

function assertSameModel(actual: ModelRecord | undefined, expected: ModelRecord): void {
  assert.ok(actual, `model ${expected.id} missing`);
  assert.equal(actual.id, expected.id);
  assert.equal(actual.family, expected.family);
  assert.equal(actual.familyKey, expected.familyKey);
  assert.deepEqual([...actual.params], [...expected.params]);
  assert.deepEqual(actual.trainRange, expected.trainRange);
  assert.deepEqual(actual.testRange, expected.testRange);
  assert.deepEqual(actual.metrics, expected.metrics);
  assert.deepEqual(actual.extra, expected.extra);
}

test('published models read back exactly, looked up by id; manifest lists files with checksums', async () => {
  const store = await freshStore();
  const writer = await store.writer('fleet');
  const written = [...records(0, 40), modelRecord(40, 1, 8, {}), modelRecord(41, 1, 8, { region: 'ap', owner: 'db-team' })];
  await writer.writeBatch('b0', written.slice(0, 20));
  await writer.writeBatch('b1', written.slice(20));
  const manifest = await writer.publish({ meta: { family: 'ar(p=8,d=0,k=3)' } });
  assert.equal(manifest.version, 1);
  assert.equal(manifest.models, 42);
  assert.deepEqual(manifest.families, { 'ar(p=8,d=0,k=3)': 42 });
  assert.equal(manifest.paramWidth, 10);
  assert.deepEqual(manifest.extraColumns, ['owner', 'region']);
  assert.deepEqual(manifest.meta, { family: 'ar(p=8,d=0,k=3)' });
  assert.equal(manifest.files.length, 1);
  assert.match(manifest.files[0]?.sha256 ?? '', /^[0-9a-f]{64}$/);

  const group = await store.open('fleet');
  assert.equal(group.size, 42);
  assert.equal(group.version, 1);
  for (const record of written) assertSameModel(group.get(record.id), record);
  assert.equal(group.get('nope'), undefined);
  assert.deepEqual([...(group.params('m7') ?? [])], [...(written[7]?.params ?? [])]);
  assert.deepEqual(new Set(group.ids), new Set(written.map((r) => r.id)));
  assert.equal([...group].length, 42);
  assert.ok(Math.abs((group.get('m3')?.trainedAt ?? 0) - Date.now()) < 60_000);

  assert.deepEqual(await store.groups(), ['fleet']);
  assert.equal(await store.current('fleet'), 1);
  const [info] = await store.versions('fleet');
  assert.deepEqual({ ...info, createdAt: undefined }, { version: 1, createdAt: undefined, models: 42, bytes: manifest.files[0]?.bytes, current: true });
  // Nothing is left in staging once published.
  assert.deepEqual(readdirSync(join(store.dir, 'groups', 'fleet', 'staging')), []);
});

test('params of different lengths become a List column; small parts spread a version over several files', async () => {
  const store = await freshStore();
  const writer = await store.writer('mixed', { rowsPerPart: 7 });
  const written = Array.from({ length: 30 }, (_, i) => modelRecord(i, 1, i % 3));
  await writer.writeBatch('all', written);
  const manifest = await writer.publish();
  assert.equal(manifest.paramWidth, null);
  assert.deepEqual(manifest.files.map((f) => f.rows), [7, 7, 7, 7, 2]);
  const group = await store.open('mixed');
  for (const record of written) assertSameModel(group.get(record.id), record);
  assert.deepEqual(group.at(29).id, written[29]?.id);
  assert.throws(() => group.at(30), RangeError);
});

test('a staged batch of thousands of models becomes a part as it is; small batches are packed together', async () => {
  const store = await freshStore();
  const writer = await store.writer('linked');
  const big = records(0, 5000);
  const small = [records(5000, 5010), records(5010, 5030)];
  await writer.writeBatch('a-big', big);
  await writer.writeBatch('b-small', small[0] as ModelRecord[]);
  await writer.writeBatch('c-small', small[1] as ModelRecord[]);
  const manifest = await writer.publish();
  assert.deepEqual(manifest.files.map((f) => f.rows), [5000, 30]);
  const dir = join(store.dir, 'groups', 'linked', 'versions', '000001');
  // Linked from the stage, which is gone now: the part is the only name of its file.
  assert.equal(statSync(join(dir, 'part-00000.arrow')).nlink, 1);
  const group = await store.open('linked');
  for (const record of [...big, ...(small.flat() as ModelRecord[])]) assertSameModel(group.get(record.id), record);
});

test('versions: a new version carries unchanged models forward; staged models win; except drops', async () => {
  const store = await freshStore();
  const first = await store.writer('g');
  await first.writeBatch('all', records(0, 10, 1));
  await first.publish();
  const v1 = await store.open('g');

  const second = await store.writer('g');
  assert.equal(await second.carryForward('current', { except: ['m9'] }), 1);
  await second.writeBatch('retrained', [modelRecord(2, 2), modelRecord(5, 2), modelRecord(10, 2)]);
  const manifest = await second.publish();
  assert.equal(manifest.version, 2);
  assert.equal(manifest.carriedFrom, 1);
  assert.equal(manifest.carried, 7, 'ten models, two retrained, one dropped');
  assert.equal(manifest.models, 10);

  const v2 = await store.open('g');
  assert.equal(v2.version, 2);
  assert.deepEqual(new Set(v2.ids), new Set(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm10']));
  assert.equal(v2.get('m2')?.params[0], 2);
  assert.equal(v2.get('m3')?.params[0], 1);
  assertSameModel(v2.get('m3'), modelRecord(3, 1));
  assert.equal(v2.get('m3')?.trainedAt, v1.get('m3')?.trainedAt, 'a carried model keeps when it was trained');
  // The earlier version is still there until pruned.
  assert.equal((await store.open('g', 1)).get('m2')?.params[0], 1);
  assert.deepEqual((await store.versions('g')).map((v) => [v.version, v.current]), [[1, false], [2, true]]);

  const third = await store.writer('g');
  await assert.rejects(third.carryForward(7), rejectsWith('UNKNOWN_VERSION'));
  await third.carryForward(1);
  assert.equal((await third.publish()).models, 10, 'carrying alone makes a version');
});

test('prune keeps the newest versions and the current one; removes abandoned stages when asked', async () => {
  const store = await freshStore();
  for (let round = 1; round <= 5; round++) {
    const writer = await store.writer('p');
    await writer.writeBatch('all', records(0, 3, round));
    await writer.publish();
  }
  await assert.rejects(store.prune('p', { keep: 0 }), rejectsWith('BAD_OPTIONS'));
  const abandoned = await store.writer('p', { stage: 'abandoned' });
  await abandoned.writeBatch('x', records(0, 1));
  // A stage as a crashed writer leaves it: its files in place, its lock naming a holder that is gone.
  const crashed = await store.writer('p', { stage: 'crashed' });
  await crashed.writeBatch('x', records(0, 1));
  const stage = join(store.dir, 'groups', 'p', 'staging', 'crashed');
  cpSync(stage, join(root, 'crashed-copy'), { recursive: true });
  await crashed.abort();
  cpSync(join(root, 'crashed-copy'), stage, { recursive: true });
  const pruned = await store.prune('p', { keep: 2, stages: true });
  assert.deepEqual(pruned.removedVersions, [1, 2, 3]);
  assert.deepEqual(pruned.removedStages, ['crashed'], 'a stage held by a live writer stays');
  assert.deepEqual((await store.versions('p')).map((v) => v.version), [4, 5]);
  await assert.rejects(store.open('p', 2), rejectsWith('UNKNOWN_VERSION'));
  assert.equal((await store.open('p')).get('m0')?.params[0], 5);

  await abandoned.writeBatch('y', records(1, 2));
  const kept = abandoned.batchKeys().sort();
  assert.deepEqual(kept, ['x', 'y']);
  await abandoned.abort();
  const writer = await store.writer('p', { stage: 'again', resume: true });
  await writer.writeBatch('z', records(0, 1));
  await writer.abort();
  assert.deepEqual(readdirSync(join(store.dir, 'groups', 'p', 'staging')), []);
});

test('resume keeps committed batches; without resume the stage starts empty; a second live writer is refused', async () => {
  const store = await freshStore();
  const first = await store.writer('r', { stage: 'job-1' });
  await first.writeBatch('a', records(0, 5));
  await first.writeBatch('b', records(5, 10));
  await assert.rejects(store.writer('r', { stage: 'job-1', resume: true }), rejectsWith('STAGE_BUSY'));
  // The writer's process going away is what resume is for; here the stage's files are copied as they stand,
  // the way a crash would leave them (lock file included: its holder is this process, which let it go).
  const stage = join(store.dir, 'groups', 'r', 'staging', 'job-1');
  const copy = join(root, 'job-1-copy');
  cpSync(stage, copy, { recursive: true });
  await first.abort();
  cpSync(copy, stage, { recursive: true });

  const resumed = await store.writer('r', { stage: 'job-1', resume: true });
  assert.deepEqual(resumed.batchKeys().sort(), ['a', 'b']);
  assert.ok(resumed.hasBatch('a') && !resumed.hasBatch('c'));
  await resumed.writeBatch('c', records(10, 12));
  assert.equal((await resumed.publish()).models, 12);

  cpSync(copy, stage, { recursive: true });
  const fresh = await store.writer('r', { stage: 'job-1' });
  assert.deepEqual(fresh.batchKeys(), []);
  await fresh.abort();
});

test('a publish that had landed before a crash is not published twice when the stage is resumed', async () => {
  const store = await freshStore();
  const writer = await store.writer('once', { stage: 'job' });
  await writer.writeBatch('a', records(0, 4));
  const stage = join(store.dir, 'groups', 'once', 'staging', 'job');
  const copy = join(root, 'once-copy');
  cpSync(stage, copy, { recursive: true });
  const published = await writer.publish();
  // As if the process died after the version's rename, before the stage was removed and CURRENT moved.
  cpSync(copy, stage, { recursive: true });
  rmSync(join(store.dir, 'groups', 'once', 'CURRENT'));
  const again = await store.writer('once', { stage: 'job', resume: true });
  const manifest = await again.publish();
  assert.equal(manifest.version, published.version);
  assert.deepEqual((await store.versions('once')).map((v) => v.version), [1]);
  assert.equal(await store.current('once'), 1);
});

test('duplicate ids: within a batch at write, across batches at publish (naming both); the stage survives', async () => {
  const store = await freshStore();
  const writer = await store.writer('d', { stage: 'dup' });
  await assert.rejects(writer.writeBatch('x', [modelRecord(1), modelRecord(1)]), rejectsWith('DUPLICATE_MODEL', /"m1" appears twice/));
  await writer.writeBatch('a', records(0, 3));
  await writer.writeBatch('b', records(2, 4));
  await assert.rejects(writer.publish(), rejectsWith('DUPLICATE_MODEL', /"m2" is in two batches .*"a" and "b"/));
  await assert.rejects(store.open('d'), rejectsWith('NO_CURRENT_VERSION'));
  const resumed = await store.writer('d', { stage: 'dup', resume: true });
  await resumed.writeBatch('b', records(3, 4)); // the same key again replaces the batch
  assert.equal((await resumed.publish()).models, 4);
  await assert.rejects(resumed.writeBatch('late', records(9, 10)), rejectsWith('WRITER_CLOSED'));
});

test('corruption anywhere in a version is an error naming the file', async () => {
  const store = await freshStore();
  const writer = await store.writer('c', { rowsPerPart: 10 });
  await writer.writeBatch('all', records(0, 25));
  await writer.publish();
  const dir = join(store.dir, 'groups', 'c', 'versions', '000001');
  const part = join(dir, 'part-00001.arrow');
  const original = readFileSync(part);

  const flipped = Buffer.from(original);
  const middle = Math.floor(flipped.length / 2);
  flipped[middle] = (flipped[middle] as number) ^ 0x40;
  writeFileSync(part, flipped);
  await assert.rejects(store.open('c'), rejectsWith('CORRUPT_FILE', /part-00001\.arrow: sha256 mismatch/));
  writeFileSync(part, original.subarray(0, original.length - 9));
  await assert.rejects(store.open('c'), (e: unknown) => rejectsWith('CORRUPT_FILE', /part-00001\.arrow/)(e) && isModelStoreError(e) && e.path === part);
  writeFileSync(part, original);
  assert.equal((await store.open('c')).size, 25);

  const manifestPath = join(dir, 'manifest.json');
  const manifest = readFileSync(manifestPath, 'utf8');
  writeFileSync(manifestPath, manifest.replace('"models": 25', '"models": 24'));
  await assert.rejects(store.open('c'), rejectsWith('CORRUPT_FILE', /manifest\.json: checksum mismatch/));
  writeFileSync(manifestPath, manifest);
  writeFileSync(join(store.dir, 'groups', 'c', 'CURRENT'), 'garbage');
  await assert.rejects(store.open('c'), rejectsWith('CORRUPT_FILE', /CURRENT: not a version pointer/));
});

test('records, names, stores and versions used wrongly are typed errors', async () => {
  const store = await freshStore();
  const writer = await store.writer('w');
  const bad = (change: (record: ModelRecord) => void): ModelRecord => {
    const record = modelRecord(1);
    change(record);
    return record;
  };
  await assert.rejects(writer.writeBatch('k', [bad((r) => (r.id = ''))]), rejectsWith('INVALID_RECORD', /id must be/));
  await assert.rejects(writer.writeBatch('k', [bad((r) => (r.params = [1, 2] as unknown as Float64Array))]), rejectsWith('INVALID_RECORD', /Float64Array/));
  await assert.rejects(writer.writeBatch('k', [bad((r) => ((r.metrics as { anomalies: number }).anomalies = 1.5))]), rejectsWith('INVALID_RECORD', /anomalies/));
  await assert.rejects(writer.writeBatch('k', [bad((r) => (r.extra = { region: 3 as unknown as string }))]), rejectsWith('INVALID_RECORD', /extra\.region/));
  await assert.rejects(writer.writeBatch('k', [bad((r) => (r.extra = JSON.parse('{"__proto__": "x"}') as Record<string, string>))]), rejectsWith('INVALID_RECORD', /__proto__/));
  await assert.rejects(writer.writeBatch('', records(0, 1)), rejectsWith('BAD_OPTIONS'));
  await assert.rejects(writer.publish(), rejectsWith('EMPTY_VERSION'));
  await assert.rejects(store.writer('../escape'), rejectsWith('INVALID_NAME'));
  await assert.rejects(store.writer('ok', { stage: '.hidden' }), rejectsWith('INVALID_NAME'));
  await assert.rejects(store.open('absent'), rejectsWith('UNKNOWN_GROUP'));
  await assert.rejects(store.versions('absent'), rejectsWith('UNKNOWN_GROUP'));
  await assert.rejects((await store.writer('nothing-yet')).carryForward('current'), rejectsWith('NO_CURRENT_VERSION'));

  const occupied = join(root, 'occupied');
  mkdirSync(occupied, { recursive: true });
  writeFileSync(join(occupied, 'notes.txt'), 'not a store');
  await assert.rejects(ModelStore.open(occupied), rejectsWith('NOT_A_STORE', /not empty/));
  await assert.rejects(ModelStore.open(join(root, 'never-made'), { create: false }), rejectsWith('NOT_A_STORE'));
  assert.equal((await ModelStore.open(store.dir, { create: false })).dir, store.dir);
});
