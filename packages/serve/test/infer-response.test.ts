// The infer response is written as text by hand; this checks it against JSON.stringify of the same answer as
// an object tree (the protocol's shape, what the server wrote before) over seeded random answers: names and
// request ids with quotes, escapes and non-ASCII, every subset and order of outputs, and values JSON has no
// number for. LOOM_TEST_SEED=<n> replays one sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '@loom/testing';
import type { InferRequest } from '../src/infer-request.js';
import { inferResponse } from '../src/infer-response.js';
import { OUTPUT_NAMES, OUTPUTS, type OutputName } from '../src/infer-tensors.js';
import type { LoadedGroup } from '../src/loaded-group.js';
import type { Scores } from '../src/score-ids.js';

const SEED = Number(process.env['LOOM_TEST_SEED'] ?? 20261202);

function reference(name: string, version: number, request: InferRequest, scores: Scores): string {
  const n = request.ids.length;
  const outputs = request.outputs.map((output) => ({
    name: output,
    datatype: OUTPUTS[output],
    shape: [n],
    data: output === 'anomaly' ? Array.from(scores.anomaly, (flag) => flag === 1) : Array.from(scores[output]),
  }));
  const response: Record<string, unknown> = { model_name: name, model_version: String(version) };
  if (request.id !== undefined) response['id'] = request.id;
  response['outputs'] = outputs;
  return JSON.stringify(response);
}

const ODD_TEXT = ['fleet', 'a"b', 'back\\slash', 'new\nline', 'tab\t', 'ünïcødé', '日本', '\u2028', '\u0001', 'emoji 🎯', ''];
const ODD_NUMBERS = [0, -0, 1e-320, 5e-324, 1e21, 1e300, -1.5e-7, 0.1 + 0.2, Number.MAX_SAFE_INTEGER + 2, NaN, Infinity, -Infinity];

function value(random: Random): number {
  return random.chance(0.3) ? random.pick(ODD_NUMBERS) : (random.next() - 0.5) * 10 ** random.int(12);
}

test('the hand-written infer response is exactly what JSON.stringify writes for the same answer', () => {
  const random = new Random(SEED);
  for (let round = 0; round < 2_000; round++) {
    const n = 1 + random.int(random.chance(0.2) ? 200 : 4);
    const name = random.pick(ODD_TEXT.slice(0, -1));
    const version = 1 + random.int(1e6);
    const outputs = random.chance(0.4) ? OUTPUT_NAMES : random.subset([...OUTPUT_NAMES].sort(() => random.next() - 0.5), 0.6);
    const request = {
      id: random.chance(0.5) ? random.pick(ODD_TEXT) : undefined,
      ids: Array.from({ length: n }, (_, i) => `m${i}`),
      outputs: (outputs.length === 0 ? OUTPUT_NAMES : outputs) as OutputName[],
    } as unknown as InferRequest;
    const scores: Scores = {
      forecast: Float64Array.from({ length: n }, () => value(random)),
      lower: Float64Array.from({ length: n }, () => value(random)),
      upper: Float64Array.from({ length: n }, () => value(random)),
      anomaly: Uint8Array.from({ length: n }, () => random.int(2)),
    };
    const loaded = { name, version } as LoadedGroup;
    const text = inferResponse(loaded, request, scores);
    assert.equal(text, reference(name, version, request, scores), `seed ${SEED}, round ${round}`);
    JSON.parse(text);
  }
});
