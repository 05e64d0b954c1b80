// New versions are picked up without a restart: requests run without pause while versions are published;
// none fails, each answer comes whole from one version (its forecasts are that version's), and a request
// sent after a publish has returned is answered by the new version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arForecast, inferBody, output, post, publishGroup, startServer, storeWith } from './serve-fixtures.js';

const MODELS = 5_000;
const store = await storeWith({ live: MODELS });
const server = await startServer(store);
const ids = ['m0', 'm17', `m${MODELS - 1}`];
const row = [3, 1, 2];

/** The version that answered, after checking every forecast is that version's (round = version). */
async function ask(): Promise<number> {
  const answer = await post(`${server.url}/v2/models/live/infer`, inferBody(ids, row));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const version = Number(answer.body['model_version']);
  const forecasts = output(answer.body, 'forecast').data;
  assert.deepEqual(forecasts, ids.map((id) => arForecast(Number(id.slice(1)), version, 2, 1)), `answer of version ${version} mixes versions`);
  return version;
}

test('publishing while requests run: none fails, none mixes versions, later ones see the new version', { timeout: 120_000 }, async () => {
  assert.equal(await ask(), 1);
  let publishing = true;
  const seen: number[] = [];
  const clients = Array.from({ length: 4 }, async () => {
    while (publishing) seen.push(await ask());
  });
  for (const version of [2, 3]) {
    await publishGroup(store, 'live', MODELS, version);
    // Sent after the publish returned: must be the new version (no wait, no retry).
    assert.equal(await ask(), version);
  }
  publishing = false;
  await Promise.all(clients);
  assert.ok(seen.length > 0, 'requests ran while publishing');
  for (let i = 1; i < seen.length; i++) assert.ok((seen[i] as number) >= 1 && (seen[i] as number) <= 3);
  assert.equal(await ask(), 3);
});
