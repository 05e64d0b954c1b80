// User-defined families: loading by module reference (path, file URL; factory, class, object), the errors
// that name what is wrong, specs that rebuild a family, and loading inside a worker thread.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ar, arima, evaluate, evaluateMany, familySpec, isFamilyError, loadFamily, resolveFamily, seasonal, validateFamily, type FamilyErrorCode } from '../src/index.js';

const fixture = fileURLToPath(new URL('./families-fixtures/mean-family.js', import.meta.url));
const train = Float64Array.of(1, 2, 3, 4, 5, 6);
const testValues = Float64Array.of(3, 10);

async function rejectsWith(promise: Promise<unknown>, code: FamilyErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isFamilyError(error, code), `expected FamilyError ${code}, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('a user-defined family loads from a path or file URL, as a factory, class, object or default export', async () => {
  const fromFactory = await loadFamily({ module: fixture, export: 'meanFamily', params: { k: 1 } });
  assert.equal(fromFactory.key(), 'mean(k=1)');
  const model = evaluate(fromFactory, { train, test: testValues });
  assert.equal(model.family, 'mean');
  assert.equal(model.familyKey, 'mean(k=1)');
  assert.deepEqual(Array.from(model.params), [3.5, Math.sqrt(17.5 / 6)]);
  assert.equal(model.metrics.anomalies, 1);

  const fromClass = await loadFamily({ module: pathToFileURL(fixture).href, export: 'MeanFamily', params: { k: 5 } });
  assert.equal(fromClass.key(), 'mean(k=5)');
  assert.equal((await loadFamily({ module: fixture })).key(), 'mean(k=2)');
  assert.equal((await loadFamily({ module: fixture, export: 'meanFamilyObject' })).key(), 'mean(k=4)');
});

test('loadFamily names what is missing or wrong', async () => {
  await rejectsWith(loadFamily({ module: fixture, export: 'broken' }), 'INVALID_FAMILY', /export 'broken'\) does not implement ModelFamily: missing paramCount\(\), paramNames\(\), minTrainPoints\(\), historyPoints\(\), predict\(\)/);
  await rejectsWith(loadFamily({ module: fixture, export: 'liar' }), 'INVALID_FAMILY', /paramCount\(\) returned -1 \(expected a positive integer\); paramNames\(\) returned \["only-one"\]/);
  await rejectsWith(loadFamily({ module: fixture, export: 'nope' }), 'FAMILY_LOAD_FAILED', /has no export 'nope' \(its exports: .*meanFamily/);
  await rejectsWith(loadFamily({ module: fixture, export: 'exploding' }), 'INVALID_FAMILY', /threw while building the family: this family needs a GPU/);
  await rejectsWith(loadFamily({ module: fixture, export: 'meanFamilyObject', params: { k: 1 } }), 'INVALID_FAMILY', /is a family object, not a factory/);
  await rejectsWith(loadFamily({ module: '/nonexistent/family.js' }), 'FAMILY_LOAD_FAILED', /could not import family module \/nonexistent\/family\.js/);
  await rejectsWith(loadFamily({ module: '' }), 'FAMILY_LOAD_FAILED', /needs a module/);
  assert.throws(() => validateFamily(42, 'the thing'), /the thing does not implement ModelFamily: it gave number/);
});

test('a family whose fits break its own layout fails those rows, not the batch', async () => {
  const family = await loadFamily({ module: fixture, export: 'shortParams' });
  const batch = evaluateMany(family, [{ train, test: testValues }]);
  assert.equal(batch.failures[0]?.code, 'INVALID_PARAMS');
  assert.match(batch.failures[0]!.message, /returned 1 parameters; its paramCount\(\) is 2/);
});

test('familySpec and resolveFamily rebuild built-in and loaded families', async () => {
  for (const family of [ar({ p: 3, d: 1 }), arima({ p: 1, q: 2, k: 4 }), seasonal({ period: 7, interval: 86400 })]) {
    const spec = JSON.parse(JSON.stringify(familySpec(family)));
    assert.equal((await resolveFamily(spec)).key(), family.key());
  }
  const loaded = await loadFamily({ module: fixture, export: 'meanFamily', params: { k: 3 } });
  const spec = familySpec(loaded);
  assert.deepEqual(spec, { module: fixture, export: 'meanFamily', params: { k: 3 } });
  assert.equal((await resolveFamily(spec)).key(), 'mean(k=3)');
  const handMade = validateFamily(new (await import('./families-fixtures/mean-family.js')).MeanFamily(), 'inline');
  assert.throws(() => familySpec(handMade), /was not made by ar\(\), arima\(\), seasonal\(\), lstm\(\) or loadFamily\(\)/);
  await assert.rejects(resolveFamily({ family: 'prophet' } as never), /unknown built-in family 'prophet'/);
});

test('a family loads and fits inside a worker thread', async () => {
  const entry = new URL('../src/index.js', import.meta.url).href;
  const source = `
    import { parentPort, workerData } from 'node:worker_threads';
    const { loadFamily, fitMany } = await import(workerData.entry);
    const family = await loadFamily({ module: workerData.fixture, export: 'meanFamily', params: { k: 1 } });
    const batch = fitMany(family, [new Float64Array(workerData.train)]);
    parentPort.postMessage({ key: family.key(), params: Array.from(batch.params) });
  `;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: { entry, fixture, train: Array.from(train) } });
  const reply = await new Promise<{ key: string; params: number[] }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.deepEqual(reply, { key: 'mean(k=1)', params: [3.5, Math.sqrt(17.5 / 6)] });
});
