// An empty batch (a task whose slices all failed) is staged like any other, and must not change the schema
// of the version it lands in: params stay FixedSizeList<Float64>(width) when every model that is there agrees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FixedSizeList, tableFromIPC } from 'apache-arrow';
import { ModelStore, type VersionManifest } from '../src/index.js';
import { tempDir } from './store-helpers.js';
import { records } from './store-records.js';

const root = tempDir('store-empty-batch');

function assertFixedWidthParams(store: ModelStore, group: string, manifest: VersionManifest, width: number): void {
  assert.equal(manifest.paramWidth, width);
  for (const file of manifest.files) {
    const table = tableFromIPC(readFileSync(join(store.dir, 'groups', group, 'versions', String(manifest.version).padStart(6, '0'), file.name)));
    const type = table.schema.fields.find((field) => field.name === 'params')?.type;
    assert.ok(type instanceof FixedSizeList, `${file.name}: params is ${String(type)}, expected FixedSizeList<Float64>[${width}]`);
    assert.equal(type.listSize, width);
  }
}

test('empty batches before and after a batch leave params a FixedSizeList', async () => {
  const store = await ModelStore.open(join(root, 'staged'));
  const writer = await store.writer('g');
  await writer.writeBatch('all-failed-first', []);
  await writer.writeBatch('models', records(0, 10));
  await writer.writeBatch('all-failed-last', []);
  const manifest = await writer.publish();
  assert.equal(manifest.models, 10);
  assertFixedWidthParams(store, 'g', manifest, 10);
  const group = await store.open('g');
  assert.equal(group.params('m3')?.length, 10);
});

test('an empty batch beside carried-forward models leaves params a FixedSizeList', async () => {
  const store = await ModelStore.open(join(root, 'carried'));
  const first = await store.writer('g');
  await first.writeBatch('models', records(0, 10));
  await first.publish();
  const second = await store.writer('g');
  await second.writeBatch('all-failed', []);
  await second.carryForward('current');
  const manifest = await second.publish();
  assert.equal(manifest.carried, 10);
  assertFixedWidthParams(store, 'g', manifest, 10);
});

test('a stage of empty batches only is still refused', async () => {
  const store = await ModelStore.open(join(root, 'only-empty'));
  const writer = await store.writer('g');
  await writer.writeBatch('all-failed', []);
  await assert.rejects(writer.publish(), (error: unknown) => (error as { code?: string }).code === 'EMPTY_VERSION');
});
