// The token: health probes stay open, everything else (metadata, infer, /metrics, unknown paths) needs
// `Authorization: Bearer <token>`; and no server listens beyond loopback without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, isServeError } from '../src/index.js';
import { call, inferBody, post, quietLogger, startServer, storeWith } from './serve-fixtures.js';

const store = await storeWith({ fleet: 5 });
const TOKEN = 's3cret-token';
const server = await startServer(store, { token: TOKEN });
const bearer = { authorization: `Bearer ${TOKEN}` };

test('the health endpoints answer without a token', async () => {
  for (const path of ['/v2/health/live', '/v2/health/ready']) assert.equal((await call(`${server.url}${path}`)).status, 200, path);
});

test('every other route needs the token: 401 without it or with a wrong one, 200 with it', async () => {
  const infer = `${server.url}/v2/models/fleet/infer`;
  for (const path of ['/v2', '/v2/models/fleet', '/v2/models/fleet/ready', '/metrics']) {
    const missing = await call(`${server.url}${path}`);
    assert.deepEqual([missing.status, missing.body['error'], missing.headers.get('www-authenticate')], [401, 'missing token: send Authorization: Bearer <token>', 'Bearer'], path);
    assert.equal((await call(`${server.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401, path);
    assert.equal((await call(`${server.url}${path}`, { headers: { authorization: TOKEN } })).status, 401, path);
    assert.equal((await call(`${server.url}${path}`, { headers: bearer })).status, 200, path);
  }
  const wrong = await post(infer, inferBody(['m1'], [1, 2, 3]), { authorization: 'Bearer nope' });
  assert.deepEqual([wrong.status, wrong.body['error']], [401, 'wrong token']);
  assert.equal((await post(infer, inferBody(['m1'], [1, 2, 3]), bearer)).status, 200);
});

test('binding beyond loopback without a token is refused; with one it is allowed', async () => {
  await assert.rejects(serve(store, { host: '0.0.0.0', port: 0, logger: quietLogger }), (error: unknown) => isServeError(error, 'BAD_OPTIONS') && /refusing to serve on 0\.0\.0\.0 without a token/.test(error.message));
  const open = await serve(store, { host: '0.0.0.0', port: 0, token: TOKEN, logger: quietLogger });
  await open.close();
  const loopback = await serve(store, { host: 'localhost', port: 0, logger: quietLogger });
  await loopback.close();
});
