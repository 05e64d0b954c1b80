// New versions are picked up without a restart: requests run without pause while versions are published;
// none fails, each answer comes whole from one version (its forecasts are that version's), and no client sees
// an older version after a newer one. A server that reads CURRENT on every request (pointerRecheckMs: 0)
// answers a request sent after a publish returned from the new version; one that relies on the filesystem's
// change notices (a recheck interval of an hour, so only a notice can move it) switches soon after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InferenceServer } from '../src/index.js';
import { arForecast, inferBody, output, post, publishGroup, startServer, storeWith } from './serve-fixtures.js';

const MODELS = 5_000;
const store = await storeWith({ strict: MODELS, watched: MODELS });
const perRequest = await startServer(store, { pointerRecheckMs: 0 });
const byNotice = await startServer(store, { pointerRecheckMs: 3_600_000 });
const ids = ['m0', 'm17', `m${MODELS - 1}`];
const row = [3, 1, 2];

/** The version that answered, after checking every forecast is that version's (round = version). */
async function ask(server: InferenceServer, group: string): Promise<number> {
  const answer = await post(`${server.url}/v2/models/${group}/infer`, inferBody(ids, row));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const version = Number(answer.body['model_version']);
  const forecasts = output(answer.body, 'forecast').data;
  assert.deepEqual(forecasts, ids.map((id) => arForecast(Number(id.slice(1)), version, 2, 1)), `answer of version ${version} mixes versions`);
  return version;
}

/** Asks until `version` answers; the versions seen on the way never go down. */
async function untilVersion(server: InferenceServer, group: string, version: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = 0;
  for (;;) {
    const seen = await ask(server, group);
    assert.ok(seen >= last, `version ${seen} answered after version ${last}`);
    last = seen;
    if (seen === version) return;
    if (Date.now() > deadline) assert.fail(`version ${version} was published, the server still answers from ${seen}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Four clients ask in a loop while versions 2 and 3 are published; `afterPublish` runs after each publish. */
async function publishUnderLoad(server: InferenceServer, group: string, afterPublish: (version: number) => Promise<void>): Promise<void> {
  assert.equal(await ask(server, group), 1);
  let publishing = true;
  const seen: number[][] = [];
  const clients = Array.from({ length: 4 }, async () => {
    const mine: number[] = [];
    seen.push(mine);
    while (publishing) mine.push(await ask(server, group));
  });
  for (const version of [2, 3]) {
    await publishGroup(store, group, MODELS, version);
    await afterPublish(version);
  }
  publishing = false;
  await Promise.all(clients);
  assert.ok(seen.flat().length > 0, 'requests ran while publishing');
  for (const mine of seen) {
    for (let i = 1; i < mine.length; i++) assert.ok((mine[i] as number) >= (mine[i - 1] as number), `a client saw version ${mine[i]} after ${mine[i - 1]}`);
  }
  assert.equal(await ask(server, group), 3);
}

test('reading CURRENT per request: a request sent after a publish returned is answered by the new version', { timeout: 120_000 }, async () => {
  await publishUnderLoad(perRequest, 'strict', async (version) => {
    // No wait, no retry.
    assert.equal(await ask(perRequest, 'strict'), version);
  });
});

test('by change notice: a publish is picked up without a restart and without waiting for the recheck interval', { timeout: 120_000 }, async () => {
  await publishUnderLoad(byNotice, 'watched', (version) => untilVersion(byNotice, 'watched', version));
});
