// `loom models ls|show`, through the real `loom` binary: listing groups, a version's summary, one model,
// --json, and the errors a user meets (a directory that is not a store, an unknown group or model).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelStore } from '../src/index.js';
import { tempDir } from './store-helpers.js';
import { modelRecord, records } from './store-records.js';

const LOOM = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'cli', 'dist', 'src', 'main.js');

function loom(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [LOOM, ...args], { encoding: 'utf8', env: { ...process.env, LOOM_MODEL_STORE: '' } });
}

test('loom models ls and show, on a store with two groups', async () => {
  assert.ok(existsSync(LOOM), `build the CLI first: ${LOOM}`);
  const dir = join(tempDir('models-cli'), 'store');
  const store = await ModelStore.open(dir);
  for (let round = 1; round <= 2; round++) {
    const writer = await store.writer('db-metrics');
    await writer.writeBatch('all', records(0, 12, round));
    if (round === 2) await writer.carryForward(1, { except: ['m11'] });
    await writer.publish({ meta: { family: 'ar' } });
  }
  const other = await store.writer('files');
  await other.writeBatch('one', [modelRecord(3, 1, 2, { owner: 'ops' })]);
  await other.publish();

  const ls = loom('models', 'ls', '--store', dir);
  assert.equal(ls.status, 0, ls.stderr);
  const lines = ls.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^GROUP\s+CURRENT\s+MODELS\s+VERSIONS\s+PUBLISHED$/);
  assert.match(lines[1] ?? '', /^db-metrics\s+2\s+12\s+1,2\s+\d{4}-/);
  assert.match(lines[2] ?? '', /^files\s+1\s+1\s+1\s+/);
  const lsJson = JSON.parse(loom('models', 'ls', '--store', dir, '--json').stdout) as Array<{ group: string; versions: number[] }>;
  assert.deepEqual(lsJson.map((g) => [g.group, g.versions]), [['db-metrics', [1, 2]], ['files', [1]]]);

  const show = loom('models', 'show', 'db-metrics', '--store', dir);
  assert.equal(show.status, 0, show.stderr);
  assert.match(show.stdout, /^group db-metrics, version 2 \(current\)/);
  assert.match(show.stdout, /models: 12 \(0 carried forward from version 1\)/);
  assert.match(show.stdout, /families: ar\(p=8,d=0,k=3\) x 12/);
  assert.match(show.stdout, /params: 10 per model \(FixedSizeList<Float64>\)/);
  assert.match(show.stdout, /part-00000\.arrow\s+12\s+\d+\s+[0-9a-f]{16}/);
  assert.match(show.stdout, /test_rmse\s+median 2\s+p90 2\s+max 2\s+\(10 defined\)/);
  assert.match(loom('models', 'show', 'db-metrics', '--version', '1', '--store', dir).stdout, /version 1 \(current is 2\)/);

  const model = loom('models', 'show', 'db-metrics', 'm5', '--store', dir);
  assert.equal(model.status, 0, model.stderr);
  assert.match(model.stdout, /^id\s+m5$/m);
  assert.match(model.stdout, /^params\s+\[2, 5, 2\.5, /m);
  assert.match(model.stdout, /^extra\s+region=us$/m);
  const modelJson = JSON.parse(loom('models', 'show', 'files', 'm3', '--json', '--store', dir).stdout) as { params: number[]; extra: object };
  assert.deepEqual(modelJson.params, [...modelRecord(3, 1, 2).params]);
  assert.deepEqual(modelJson.extra, { owner: 'ops' });

  const missingModel = loom('models', 'show', 'db-metrics', 'm99', '--store', dir);
  assert.equal(missingModel.status, 1);
  assert.match(missingModel.stderr, /no model "m99" in group db-metrics version 2/);
  assert.match(loom('models', 'show', 'nope', '--store', dir).stderr, /no group "nope"/);
  const notAStore = loom('models', 'ls', '--store', join(dir, 'groups'));
  assert.equal(notAStore.status, 1);
  assert.match(notAStore.stderr, /is not a model store/);
  assert.match(loom('models', 'frobnicate', '--store', dir).stderr, /unknown models command 'frobnicate'/);
});
