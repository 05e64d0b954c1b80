// The dashboard's Models section over a real model store: each group's current version, versions kept, model
// count, family and publishing time; the latest drift check of the current version with its drifted ids, most
// drifted first and capped; a damaged group listed as a problem while the others show; a missing store an
// error until it appears; an empty directory (a fresh volume) no error; at most 200 groups, the rest counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IdsCell, SectionContent, SectionTable } from '@loom/dashboard';
import { ModelStore, isModelStoreError } from '../src/index.js';
import { mapBounded } from '../src/map-bounded.js';
import { createDashboardSection } from '../src/store/store-dashboard.js';
import { DRIFT_FORMAT, type DriftRecord } from '../src/store/drift-results.js';
import { tempDir } from './store-helpers.js';
import { modelRecord, records } from './store-records.js';

const open = async (storeDir: string) => {
  const section = await createDashboardSection({ storeDir });
  return async () => (await section.data()) as SectionContent;
};
const groupsOf = (content: SectionContent): SectionTable => content.tables.find((table) => table.id === 'groups')!;
const tile = (content: SectionContent, label: string) => content.tiles?.find((candidate) => candidate.label === label)?.value;

function driftRecord(group: string, version: number, drifted: number, method = 'psi'): DriftRecord {
  return {
    format: DRIFT_FORMAT,
    group,
    version,
    method,
    options: {},
    detectedAt: new Date().toISOString(),
    split: { origin: 'recent.csv', slices: 150 },
    tested: 150,
    failed: 2,
    // m0 drifted least, so the most drifted come last here: the section must sort them.
    drifted: Array.from({ length: drifted }, (_, i) => ({ id: `m${i}`, statistic: 0.2 + i / 100, threshold: 0.2 })),
    failures: [],
  };
}

test('groups with their versions, counts and family; the latest drift check with the drifted ids, capped', async () => {
  const dir = join(tempDir('models-dashboard'), 'store');
  const store = await ModelStore.open(dir);
  for (let round = 1; round <= 3; round++) {
    const writer = await store.writer('fleet');
    await writer.writeBatch('all', records(0, 150, round));
    await writer.publish({ meta: { round } });
  }
  const small = await store.writer('small');
  await small.writeBatch('one', [modelRecord(1, 1, 2)]);
  await small.publish();
  await store.recordDrift(driftRecord('fleet', 3, 3, 'ks'));
  await store.recordDrift(driftRecord('fleet', 3, 120));
  const read = await open(dir);

  const content = await read();
  assert.equal(content.source, `model store ${dir}`);
  const rows = groupsOf(content).rows;
  assert.deepEqual(rows.map((row) => row['group']), ['fleet', 'small']);
  const [fleet, other] = rows;
  const manifest = await store.manifest('fleet');
  assert.deepEqual({ ...fleet, checked: undefined, drifted: undefined }, {
    group: 'fleet', version: 3, kept: 3, models: 150, failed: null, family: 'ar(p=8,d=0,k=3)', published: manifest.createdAt,
    method: 'psi', tested: 150, checked: undefined, drifted: undefined,
  });
  assert.ok(Date.parse(String(fleet!['checked'])) > 0);
  const drifted = fleet!['drifted'] as IdsCell;
  assert.equal(drifted.total, 120, 'the latest of the two runs');
  assert.equal(drifted.ids.length, 100, 'ids capped at 100');
  assert.deepEqual(drifted.ids.slice(0, 3), ['m119', 'm118', 'm117'], 'most drifted first');
  assert.equal(other!['drifted'], null, 'never checked');
  assert.equal(other!['family'], 'ar(p=2,d=0,k=3)');
  assert.equal(tile(content, 'groups'), 2);
  assert.equal(tile(content, 'models'), 151);
  assert.equal(tile(content, 'versions kept'), 4);
  assert.equal(tile(content, 'drifted'), 120);

  // A version's manifest never changes once published: it is read once, not on every refresh.
  const manifestPath = join(dir, 'groups', 'fleet', 'versions', '000003', 'manifest.json');
  const original = readFileSync(manifestPath);
  writeFileSync(manifestPath, 'damaged after it was read');
  assert.equal(groupsOf(await read()).rows[0]?.['models'], 150);
  writeFileSync(manifestPath, original);

  // A new version without a drift check yet: the group shows it, and no stale drift from the old version.
  const next = await store.writer('fleet');
  await next.writeBatch('all', records(0, 10, 4));
  await next.publish();
  const after = groupsOf(await read()).rows[0]!;
  assert.equal(after['version'], 4);
  assert.equal(after['models'], 10);
  assert.equal(after['drifted'], null);
});

test('a damaged group is listed as a problem while the others show; a missing store is an error until it appears', async () => {
  const base = tempDir('models-dashboard-damage');
  const dir = join(base, 'store');
  const store = await ModelStore.open(dir);
  for (const group of ['alpha', 'beta']) {
    const writer = await store.writer(group);
    await writer.writeBatch('b', records(0, 3));
    await writer.publish();
  }
  writeFileSync(join(dir, 'groups', 'beta', 'CURRENT'), 'not json');
  const read = await open(dir);
  const content = await read();
  assert.deepEqual(groupsOf(content).rows.map((row) => row['group']), ['alpha']);
  const problems = content.tables.find((table) => table.id === 'problems');
  assert.equal(problems?.rows.length, 1);
  assert.match(String(problems?.rows[0]?.['problem']), /^CORRUPT_FILE: .*beta.*CURRENT/);
  assert.equal(tile(content, 'unreadable groups'), 1);

  renameSync(dir, `${dir}.away`);
  await assert.rejects(read(), (error: unknown) => isModelStoreError(error, 'NOT_A_STORE') && /no such directory/.test(error.message));
  renameSync(`${dir}.away`, dir);
  assert.deepEqual(groupsOf(await read()).rows.map((row) => row['group']), ['alpha'], 'back once the store is');

  const foreign = join(base, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'hello');
  await assert.rejects((await open(foreign))(), (error: unknown) => isModelStoreError(error, 'NOT_A_STORE') && /not a model store/.test(error.message));
  const empty = join(base, 'empty');
  mkdirSync(empty);
  const fresh = await (await open(empty))();
  assert.equal(groupsOf(fresh).rows.length, 0);
  assert.match(groupsOf(fresh).empty ?? '', /nothing has been published/);
});

test('at most 200 groups are listed; the rest are counted', async () => {
  const dir = join(tempDir('models-dashboard-many'), 'store');
  const store = await ModelStore.open(dir);
  // Published side by side (each publish waits on its fsyncs; one after the other takes seconds).
  await mapBounded(Array.from({ length: 203 }, (_, g) => g), 32, async (g) => {
    const writer = await store.writer(`g${String(g).padStart(3, '0')}`);
    await writer.writeBatch('b', [modelRecord(g)]);
    await writer.publish();
  });
  const content = await (await open(dir))();
  const groups = groupsOf(content);
  assert.equal(groups.rows.length, 200);
  assert.equal(groups.omitted, 3);
  assert.equal(tile(content, 'groups'), 203);
});
