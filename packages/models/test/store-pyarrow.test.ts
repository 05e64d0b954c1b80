// The store's files are plain Arrow IPC: pyarrow reads a published version without Loom, with the documented
// column names and types, and the same values. Needs a Python with pyarrow: /usr/bin/python3 when it has it,
// or LOOM_TEST_PYTHON; skipped (saying so) otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ModelStore } from '../src/index.js';
import { tempDir } from './store-helpers.js';
import { modelRecord, records } from './store-records.js';

function pythonWithPyarrow(): string | undefined {
  for (const python of [process.env['LOOM_TEST_PYTHON'], '/usr/bin/python3']) {
    if (python && spawnSync(python, ['-c', 'import pyarrow'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

const READ_WITH_PYARROW = `
import json, sys, os
import pyarrow as pa, pyarrow.ipc as ipc
version_dir = sys.argv[1]
manifest = json.load(open(os.path.join(version_dir, 'manifest.json')))
tables = [ipc.open_file(os.path.join(version_dir, f['name'])).read_all() for f in manifest['files']]
table = pa.concat_tables(tables)
rows = {r['id']: r for r in table.to_pylist()}
m8 = rows['m8']
print(json.dumps({
  'schema': [[f.name, str(f.type)] for f in table.schema],
  'metadata': {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()},
  'rows': table.num_rows,
  'm8': {'params': m8['params'], 'train_from': m8['train_from'], 'test_rmse': m8['test_rmse'], 'anomalies': m8['anomalies'],
         'extra.region': m8['extra.region'], 'extra.owner': m8['extra.owner'], 'trained_at_year': m8['trained_at'].year},
  'm0_test_rmse_is_nan': rows['m0']['test_rmse'] != rows['m0']['test_rmse'],
}))
`;

test('pyarrow reads a published version: columns, types and values', async (t) => {
  const python = pythonWithPyarrow();
  if (python === undefined) {
    t.skip('no Python with pyarrow (install python3-pyarrow, or set LOOM_TEST_PYTHON)');
    return;
  }
  const store = await ModelStore.open(join(tempDir('store-pyarrow'), 'store'));
  const writer = await store.writer('g', { rowsPerPart: 6 });
  await writer.writeBatch('a', [...records(0, 8), modelRecord(8, 1, 8, { region: 'eu', owner: 'ops' }), ...records(9, 10)]);
  await writer.publish();
  const result = spawnSync(python, ['-c', READ_WITH_PYARROW, join(store.dir, 'groups', 'g', 'versions', '000001')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const read = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.deepEqual(read['schema'], [
    ['id', 'string'],
    ['family', 'string'],
    ['family_key', 'string'],
    ['params', 'fixed_size_list<item: double not null>[10]'],
    ['train_from', 'double'],
    ['train_to', 'double'],
    ['test_from', 'double'],
    ['test_to', 'double'],
    ['train_rmse', 'double'],
    ['train_mae', 'double'],
    ['test_rmse', 'double'],
    ['test_mae', 'double'],
    ['anomaly_rate', 'double'],
    ['train_ms', 'double'],
    ['train_points', 'int32'],
    ['test_points', 'int32'],
    ['anomalies', 'int32'],
    ['trained_at', 'timestamp[ms]'],
    ['extra.owner', 'string'],
    ['extra.region', 'string'],
  ]);
  assert.deepEqual(read['metadata'], { 'loom.model_store.format': '1' });
  assert.equal(read['rows'], 10);
  const expected = modelRecord(8, 1, 8, { region: 'eu', owner: 'ops' });
  assert.deepEqual(read['m8'], {
    params: [...expected.params],
    train_from: expected.trainRange.from,
    test_rmse: expected.metrics.testRmse,
    anomalies: expected.metrics.anomalies,
    'extra.region': 'eu',
    'extra.owner': 'ops',
    trained_at_year: new Date().getUTCFullYear(),
  });
  assert.equal(read['m0_test_rmse_is_nan'], true);
});
