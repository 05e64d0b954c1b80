// The protocol end to end on a real HTTP server: health, server and model metadata, readiness, and infer for
// one and many ids, whose forecasts, bands and anomaly flags are checked against the AR(2) formula by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arForecast, call, inferBody, output, post, publishGroup, startServer, storeWith, untilCurrent } from './serve-fixtures.js';

const store = await storeWith({ fleet: 500, small: 3 });
const server = await startServer(store);
const infer = (group: string, body: unknown, version?: number) => post(`${server.url}/v2/models/${group}${version === undefined ? '' : `/versions/${version}`}/infer`, body);

test('health, server metadata and model readiness answer as the protocol says', async () => {
  assert.deepEqual((await call(`${server.url}/v2/health/live`)).status, 200);
  assert.deepEqual((await call(`${server.url}/v2/health/ready`)).status, 200);
  const meta = await call(`${server.url}/v2`);
  assert.equal(meta.status, 200);
  assert.equal(meta.body['name'], 'loom-serve');
  const ready = await call(`${server.url}/v2/models/fleet/ready`);
  assert.deepEqual([ready.status, ready.body], [200, { name: 'fleet', version: '1', ready: true }]);
  const missing = await call(`${server.url}/v2/models/nope/ready`);
  assert.equal(missing.status, 404);
  assert.match(String(missing.body['error']), /"nope"/);
});

test('model metadata lists versions, tensors with datatypes and shapes, and what a row needs', async () => {
  const { status, body } = await call(`${server.url}/v2/models/small`);
  assert.equal(status, 200);
  assert.equal(body['name'], 'small');
  assert.deepEqual(body['versions'], ['1']);
  assert.equal(body['platform'], 'loom_models');
  assert.deepEqual(body['inputs'], [
    { name: 'ids', datatype: 'BYTES', shape: [-1] },
    { name: 'values', datatype: 'FP64', shape: [-1, -1] },
    { name: 'times', datatype: 'FP64', shape: [-1, -1] },
    { name: 'forecast_times', datatype: 'FP64', shape: [-1] },
  ]);
  assert.deepEqual(body['outputs'], [
    { name: 'forecast', datatype: 'FP64', shape: [-1] },
    { name: 'lower', datatype: 'FP64', shape: [-1] },
    { name: 'upper', datatype: 'FP64', shape: [-1] },
    { name: 'anomaly', datatype: 'BOOL', shape: [-1] },
  ]);
  assert.deepEqual(body['parameters'], { version: '1', models: 3, families: { 'ar(p=2,d=0,k=3)': 3 }, min_values: 3 });
});

test('one model: the next value is forecast from the row, the last value is judged against the forecast before it', async () => {
  // y = 4, 2, 3: next = 1 + 0.5 * 3 + 0.101 * 2; the forecast of 3 was 1 + 0.5 * 2 + 0.101 * 4 = 2.404, band +-3.
  const { status, body } = await infer('fleet', inferBody(['m1'], [4, 2, 3], { id: 'req-1' }));
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body['model_name'], 'fleet');
  assert.equal(body['model_version'], '1');
  assert.equal(body['id'], 'req-1');
  const next = arForecast(1, 1, 3, 2);
  assert.deepEqual(output(body, 'forecast'), { name: 'forecast', datatype: 'FP64', shape: [1], data: [next] });
  assert.deepEqual(output(body, 'lower').data, [next - 3]);
  assert.deepEqual(output(body, 'upper').data, [next + 3]);
  assert.deepEqual(output(body, 'anomaly'), { name: 'anomaly', datatype: 'BOOL', shape: [1], data: [false] });
  // The same history with a last value of 10: 10 - 2.404 > 3, an anomaly.
  const spike = await infer('fleet', inferBody(['m1'], [4, 2, 10]));
  assert.deepEqual(output(spike.body, 'anomaly').data, [true]);
  assert.deepEqual(output(spike.body, 'forecast').data, [arForecast(1, 1, 10, 2)]);
});

test('many ids in one request: each its own model and row, in the request order, flat or nested data', async () => {
  const ids = Array.from({ length: 200 }, (_, i) => `m${(i * 7) % 500}`);
  const rows = ids.map((_, i) => [i, i % 3, (i % 11) - 5, (i % 5) * 2]);
  const body = {
    inputs: [
      { name: 'ids', datatype: 'BYTES', shape: [ids.length], data: ids },
      { name: 'values', datatype: 'FP32', shape: [ids.length, 4], data: rows },
    ],
    outputs: [{ name: 'anomaly' }, { name: 'forecast' }],
  };
  const answer = await infer('fleet', body);
  assert.equal(answer.status, 200, JSON.stringify(answer.body).slice(0, 300));
  assert.deepEqual((answer.body['outputs'] as { name: string }[]).map((o) => o.name), ['anomaly', 'forecast']);
  const forecasts = output(answer.body, 'forecast').data as number[];
  const anomalies = output(answer.body, 'anomaly').data as boolean[];
  ids.forEach((id, i) => {
    const index = Number(id.slice(1));
    const [a, b, c, d] = rows[i] as [number, number, number, number];
    assert.equal(forecasts[i], arForecast(index, 1, d, c), id);
    assert.equal(anomalies[i], Math.abs(d - arForecast(index, 1, c, b)) > 3, id);
    assert.ok(a >= 0);
  });
});

test('a version path scores with that version; the current one moves when a new version is published', async () => {
  await publishGroup(store, 'small', 3, 2);
  await untilCurrent(server, 'small', 2);
  const current = await infer('small', inferBody(['m0'], [1, 1, 1]));
  assert.equal(current.body['model_version'], '2');
  assert.deepEqual(output(current.body, 'forecast').data, [arForecast(0, 2, 1, 1)]);
  const old = await infer('small', inferBody(['m0'], [1, 1, 1]), 1);
  assert.equal(old.body['model_version'], '1');
  assert.deepEqual(output(old.body, 'forecast').data, [arForecast(0, 1, 1, 1)]);
  const meta = await call(`${server.url}/v2/models/small/versions/1`);
  assert.deepEqual([meta.body['versions'], (meta.body['parameters'] as { version: string }).version], [['1', '2'], '1']);
});

test('unknown groups, versions and model ids are 404s naming them', async () => {
  const group = await infer('nope', inferBody(['m1'], [1, 2, 3]));
  assert.deepEqual([group.status, group.body['error']], [404, 'no model group "nope" in the store']);
  const version = await infer('fleet', inferBody(['m1'], [1, 2, 3]), 9);
  assert.deepEqual([version.status, version.body['error']], [404, 'group "fleet" has no version 9']);
  const named = await call(`${server.url}/v2/models/fleet/versions/latest/ready`);
  assert.equal(named.status, 404);
  assert.match(String(named.body['error']), /no version "latest"/);
  const ids = await infer('fleet', inferBody(['m1', 'ghost', 'm2', 'x"y'], [1, 2, 3]));
  assert.deepEqual([ids.status, ids.body['error']], [404, 'group fleet version 1 has no model "ghost", "x\\"y"']);
  const many = await infer('fleet', inferBody(Array.from({ length: 15 }, (_, i) => `g${i}`), [1, 2, 3]));
  assert.match(String(many.body['error']), /"g9" and 5 more$/);
});
