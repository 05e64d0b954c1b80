// Bad requests, one of each kind: the status the protocol asks for and an error that names the tensor or field
// and the problem. After all of them the server still answers a good request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { call, inferBody, post, startServer, storeWith } from './serve-fixtures.js';

const store = await storeWith({ fleet: 10 });
const server = await startServer(store, { maxBodyBytes: 4096 });
const url = `${server.url}/v2/models/fleet/infer`;
const ids = { name: 'ids', datatype: 'BYTES', shape: [1], data: ['m1'] };
const values = { name: 'values', datatype: 'FP64', shape: [1, 3], data: [1, 2, 3] };
const withInputs = (...inputs: unknown[]) => ({ inputs });

const cases: Array<[string, unknown, RegExp]> = [
  ['empty body', '', /^request body: empty/],
  ['malformed JSON', '{"inputs": [', /^request body: not valid JSON/],
  ['a JSON array', '[1, 2]', /^request body: must be a JSON object, got an array of 2/],
  ['an unknown top-level field', { ...withInputs(ids, values), model: 'x' }, /^request: unknown field "model"/],
  ['no inputs', {}, /^inputs: missing/],
  ['inputs not an array', { inputs: {} }, /^inputs: must be an array of tensors, got an object/],
  ['an unknown field in a tensor', withInputs({ ...ids, dtype: 'x' }, values), /^inputs\[0\]: unknown field "dtype"/],
  ['an unknown input', withInputs(ids, values, { ...values, name: 'extra' }), /^inputs\[2\]: unknown input "extra"/],
  ['an input given twice', withInputs(ids, values, values), /^values: given twice/],
  ['no values', withInputs(ids), /^inputs: no values tensor/],
  ['ids of the wrong datatype', withInputs({ ...ids, datatype: 'INT64' }, values), /^ids: datatype "INT64" is not BYTES/],
  ['values of the wrong datatype', withInputs(ids, { ...values, datatype: 'BYTES' }), /^values: datatype "BYTES" is not FP64 or FP32/],
  ['a shape that is not integers', withInputs(ids, { ...values, shape: [1, 2.5] }), /^values: shape must be an array of non-negative integers/],
  ['values of rank 1', withInputs(ids, { ...values, shape: [3] }), /^values: shape must be \[n, t\], got \[3\]/],
  ['data not matching the shape', withInputs(ids, { ...values, shape: [1, 4] }), /^values: has 3 elements, its shape \[1, 4\] says 4/],
  ['nested data not matching the shape', withInputs(ids, { ...values, data: [[1, 2], [3]] }), /^values: nested data does not match its shape \[1, 3\]/],
  ['more rows than ids', withInputs(ids, { ...values, shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }), /^values: has 2 rows, but ids names 1 models/],
  ['a string among the values', withInputs(ids, { ...values, data: [1, 'NaN', 3] }), /^values: element \[0, 1\] is the string "NaN"; values must be finite numbers/],
  ['an infinite value', '{"inputs":[{"name":"ids","datatype":"BYTES","shape":[1],"data":["m1"]},{"name":"values","datatype":"FP64","shape":[1,3],"data":[1,1e999,3]}]}', /^values: element \[0, 1\] is Infinity/],
  ['a null value', withInputs(ids, { ...values, data: [1, null, 3] }), /^values: element \[0, 1\] is null/],
  ['a number as an id', withInputs({ ...ids, data: [7] }, values), /^ids: element 0 is 7; model ids are strings/],
  ['too few values for the model', withInputs(ids, { ...values, shape: [1, 2], data: [1, 2] }), /^values: model "m1" \(ar\(p=2,d=0,k=3\)\) needs at least 3 values per row/],
  ['times of another shape', withInputs(ids, values, { name: 'times', datatype: 'FP64', shape: [1, 2], data: [1, 2] }), /^times: shape \[1, 2\] must equal the values' shape \[1, 3\]/],
  ['INT64 times that are not integers', withInputs(ids, values, { name: 'times', datatype: 'INT64', shape: [1, 3], data: [1, 2.5, 3] }), /^times: element \[0, 1\] is 2.5; INT64 elements must be integers/],
  ['forecast_times without times', withInputs(ids, values, { name: 'forecast_times', datatype: 'FP64', shape: [1], data: [4] }), /^forecast_times: given without times/],
  ['an unknown output', { ...withInputs(ids, values), outputs: [{ name: 'score' }] }, /^outputs\[0\]: unknown output "score"/],
  ['binary data asked for', { ...withInputs(ids, values), parameters: { binary_data_output: true } }, /^parameters: binary_data_output: the binary tensor data extension is not supported/],
  ['an id that is not a string', { ...withInputs(ids, values), id: 5 }, /^id: must be a string, got 5/],
];

for (const [what, body, message] of cases) {
  test(`400 for ${what}`, async () => {
    const answer = await post(url, body);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.match(String(answer.body['error']), message);
    assert.deepEqual(Object.keys(answer.body), ['error']);
  });
}

test('413 for a body over the limit, declared or chunked, and the server goes on', async () => {
  const big = JSON.stringify(inferBody(['m1'], Array.from({ length: 2000 }, (_, i) => i)));
  const declared = await post(url, big);
  assert.equal(declared.status, 413);
  assert.match(String(declared.body['error']), /larger than the server's limit of 4096 bytes/);
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    for (let i = 0; i < 8; i++) req.write(big.slice(i * 1000, (i + 1) * 1000));
    req.end();
  });
  assert.equal(chunked, 413);
  assert.equal((await post(url, inferBody(['m1'], [1, 2, 3]))).status, 200);
});

test('405 with Allow for a wrong method, 404 for an unknown path', async () => {
  const get = await call(url);
  assert.deepEqual([get.status, get.headers.get('allow')], [405, 'POST']);
  assert.match(String(get.body['error']), /^GET is not allowed on \/v2\/models\/fleet\/infer; use POST/);
  const postHealth = await call(`${server.url}/v2/health/live`, { method: 'POST' });
  assert.deepEqual([postHealth.status, postHealth.headers.get('allow')], [405, 'GET, HEAD']);
  for (const path of ['/', '/v1/models/fleet', '/v2/models/fleet/predict', '/v2/models/fleet/versions', '/v2/models/%E0%A4%A/infer']) {
    const answer = await call(`${server.url}${path}`);
    assert.equal(answer.status, 404, path);
    assert.match(String(answer.body['error']), /^no such path/);
  }
});

test('a client that leaves mid-body gets no scoring and no 5xx, and the server goes on', async () => {
  const { port } = new URL(url);
  for (let i = 0; i < 20; i++) {
    const reset = i % 2 === 1;
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /v2/models/fleet/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"inputs": [`);
        // Gone half-way through the body: a reset on odd rounds, an orderly close (FIN) on even ones.
        setImmediate(() => (reset ? socket.resetAndDestroy() : socket.end()));
      });
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    // After a FIN, node:http's parser finds the message cut short and the server says so; a reset leaves no
    // one to answer.
    if (reset) assert.equal(answer, '');
    else assert.match(answer, /^HTTP\/1\.1 400 [^]*malformed HTTP request/);
  }
  assert.equal((await post(url, inferBody(['m1'], [1, 2, 3]))).status, 200);
  const metrics = await call(`${server.url}/metrics`);
  assert.doesNotMatch(String(metrics.body['text']), /loom_serve_requests_total\{route="infer",code="5\d\d"\}/);
});

test('the server still answers after every bad request', async () => {
  const answer = await post(url, inferBody(['m1'], [1, 2, 3]));
  assert.equal(answer.status, 200);
});
