// `loom serve` as a real process: it prints its URL once listening, answers the protocol, refuses to bind
// beyond loopback without a token, and exits 0 on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { arForecast, inferBody, output, post, storeWith } from './serve-fixtures.js';

const LOOM = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));
const store = await storeWith({ fleet: 10 });

test('loom serve prints its URL, serves, and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [LOOM, 'serve', '--store', store.dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match !== null) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`loom serve exited with ${String(code)} before listening: ${out}`)));
  });
  const answer = await post(`${url}/v2/models/fleet/infer`, inferBody(['m3'], [5, 6, 7]));
  assert.equal(answer.status, 200);
  assert.deepEqual(output(answer.body, 'forecast').data, [arForecast(3, 1, 7, 6)]);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('loom serve refuses 0.0.0.0 without a token, and bad options, with exit status 1', () => {
  const open = spawnSync(process.execPath, [LOOM, 'serve', '--store', store.dir, '--host', '0.0.0.0', '--port', '0'], { encoding: 'utf8', env: { ...process.env, LOOM_SERVE_TOKEN: '' } });
  assert.equal(open.status, 1);
  assert.match(open.stderr, /refusing to serve on 0\.0\.0\.0 without a token/);
  const port = spawnSync(process.execPath, [LOOM, 'serve', '--store', store.dir, '--port', 'http'], { encoding: 'utf8' });
  assert.equal(port.status, 1);
  assert.match(port.stderr, /--port takes a port number, got http/);
  const recheck = spawnSync(process.execPath, [LOOM, 'serve', '--store', store.dir, '--port', '0', '--recheck-ms', 'soon'], { encoding: 'utf8' });
  assert.equal(recheck.status, 1);
  assert.match(recheck.stderr, /--recheck-ms takes a whole number of milliseconds, got soon/);
  const notStore = spawnSync(process.execPath, [LOOM, 'serve', '--store', '/nonexistent-store', '--port', '0'], { encoding: 'utf8' });
  assert.equal(notStore.status, 1);
  assert.match(notStore.stderr, /is not a model store/);
});
