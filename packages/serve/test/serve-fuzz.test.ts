// Seeded random abuse: malformed bodies (truncated, mutated, wrong types and shapes, non-finite numbers,
// deep nesting, junk bytes), wrong methods and odd paths. Every answer must be a 4xx and the server must keep
// serving good requests in between. LOOM_TEST_SEED=<n> replays one sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '@loom/testing';
import { call, inferBody, post, startServer, storeWith } from './serve-fixtures.js';

const store = await storeWith({ fleet: 20 });
const server = await startServer(store, { maxBodyBytes: 64 * 1024 });
const url = `${server.url}/v2/models/fleet/infer`;
const good = inferBody(['m1', 'm2'], [1, 2, 3, 4]);
const ROUNDS = 400;

// Every value below is wrong wherever it lands (a field, a tensor field, a data element), so each mutation
// makes a request that must be refused; a mutation that could come out valid would make the test flaky.
const WRONG_ANYWHERE: readonly unknown[] = [null, true, false, 42, [[[[1]]]], { a: 1 }, 'NaN'];
const WRONG_ELEMENT: readonly unknown[] = [null, true, 'NaN', [[1]], {}, [], 'Infinity'];

/** A good request with one part replaced, removed or added at random. */
function mutated(random: Random): unknown {
  const body = structuredClone(good) as { inputs: Array<Record<string, unknown>>; [key: string]: unknown };
  const tensor = random.pick(body.inputs);
  switch (random.int(8)) {
    case 0:
      tensor[random.pick(['name', 'shape', 'datatype', 'data'])] = random.pick(WRONG_ANYWHERE);
      break;
    case 1:
      delete tensor[random.pick(['name', 'shape', 'datatype', 'data'])];
      break;
    case 2:
      tensor[random.pick(['extra', 'contents', 'Data'])] = random.pick(WRONG_ANYWHERE);
      break;
    case 3:
      (tensor['shape'] as unknown[])[random.int(2)] = random.pick([0, -1, 3, 1e9, 2.5, '2', null]);
      break;
    case 4:
      (tensor['data'] as unknown[])[random.int(2)] = random.pick(tensor['name'] === 'ids' ? WRONG_ELEMENT.filter((v) => typeof v !== 'string') : WRONG_ELEMENT);
      break;
    case 5:
      body[random.pick(['inputs', 'outputs', 'id', 'parameters', 'extra'])] = random.pick(WRONG_ANYWHERE.filter((v) => typeof v !== 'string' && !(typeof v === 'object' && v !== null && !Array.isArray(v))));
      break;
    case 6:
      body.inputs.push({ ...tensor });
      break;
    default:
      tensor['datatype'] = random.pick(['FP16', 'INT8', 'BOOL', 'fp64', 'UINT64', 'bytes']);
      break;
  }
  return body;
}

function malformedText(random: Random): string {
  const text = JSON.stringify(good);
  switch (random.int(5)) {
    case 0:
      return text.slice(0, random.int(text.length));
    case 1: {
      // Structural characters and a control character: never a valid request where they land.
      const at = random.int(text.length);
      const replacements = ['{', '}', '[', ']', ':', ',', '"', '\u0001'].filter((c) => c !== text[at]);
      return `${text.slice(0, at)}${random.pick(replacements)}${text.slice(at + 1)}`;
    }
    case 2:
      return '['.repeat(10_000 + random.int(50_000));
    case 3:
      return Buffer.from(Array.from({ length: random.int(2000) }, () => random.int(256))).toString('latin1');
    default:
      return text.replace(/\d+/, random.pick(['1e999', '-1e999', 'NaN', '0x10', '01']));
  }
}

test(`${ROUNDS} malformed requests all get a 4xx, and the server keeps serving`, { timeout: 120_000 }, async () => {
  const seed = Number(process.env['LOOM_TEST_SEED'] ?? Date.now() % 100_000);
  const random = new Random(seed);
  const context = `(seed ${seed}; rerun with LOOM_TEST_SEED=${seed})`;
  for (let round = 0; round < ROUNDS; round++) {
    const kind = random.int(4);
    let answer;
    let sent: string;
    if (kind === 0) {
      const method = random.pick(['GET', 'PUT', 'DELETE', 'PATCH']);
      sent = `${method} infer`;
      answer = await call(url, { method, ...(method === 'GET' ? {} : { body: 'x' }) });
    } else if (kind === 1) {
      const path = random.pick(['/v2/models//infer', '/v2/models/fleet/versions/0/infer', '/v2/models/fleet/versions/-1/infer', '/v2/models/..%2F..%2Fetc/infer', '/v2/models/fleet/infer/x', '/v2/models/%00/infer', `/v2/models/${'a'.repeat(300)}/infer`]);
      sent = `POST ${path}`;
      answer = await post(`${server.url}${path}`, good);
    } else {
      const body = kind === 2 ? mutated(random) : malformedText(random);
      sent = typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body).slice(0, 200);
      answer = await post(url, body);
    }
    assert.ok(answer.status >= 400 && answer.status < 500, `round ${round}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)} for ${sent} ${context}`);
    assert.equal(typeof answer.body['error'], 'string', `round ${round}: no error message ${context}`);
    if (round % 50 === 0) assert.equal((await post(url, good)).status, 200, `round ${round}: a good request failed ${context}`);
  }
  assert.equal((await call(`${server.url}/v2/health/live`)).status, 200);
  assert.equal((await post(url, good)).status, 200);
});
