// `loom serve` as a real process: it prints its URL once listening, answers the protocol, refuses to bind
// beyond loopback without a token, and exits 0 on SIGTERM. Started without its V8 flags, it runs itself again
// under them (serve-v8-flags.ts): signals and the exit status pass through the first process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { arForecast, inferBody, output, post, storeWith } from './serve-fixtures.js';

const LOOM = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));
const store = await storeWith({ fleet: 10 });

function listening(child: ChildProcessByStdio<null, Readable, Readable>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match !== null) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`loom serve exited with ${String(code)} before listening: ${out}`)));
  });
}

const commandLine = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
/** The processes `pid` started (Linux's per-thread children list; the main thread starts them all here). */
const childrenOf = (pid: number): number[] => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

test('loom serve prints its URL, serves, and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [LOOM, 'serve', '--store', store.dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await listening(child);
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

test('loom serve runs itself again under --single-threaded-gc; SIGINT and SIGTERM reach the server; LOOM_SERVE_V8_FLAGS opts out', { timeout: 60_000 }, async () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const child = spawn(process.execPath, [LOOM, 'serve', '--store', store.dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await listening(child);
    const [server, ...others] = childrenOf(child.pid as number);
    assert.ok(server !== undefined && others.length === 0, 'one server process under the first');
    assert.ok(commandLine(server).includes('--single-threaded-gc'), commandLine(server).join(' '));
    assert.ok(!commandLine(child.pid as number).includes('--single-threaded-gc'));
    assert.equal((await post(`${url}/v2/models/fleet/infer`, inferBody(['m3'], [5, 6, 7]))).status, 200);
    const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, by) => resolve([code, by])));
    child.kill(signal);
    assert.deepEqual(await exited, [0, null], `${signal}: the server closed and both exited 0`);
    assert.ok(!existsSync(`/proc/${server}/cmdline`) || commandLine(server).length <= 1, `${signal}: the server process is gone`);
  }
  const flagged = spawn(process.execPath, [LOOM, 'serve', '--store', store.dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOOM_SERVE_V8_FLAGS: '' } });
  try {
    await listening(flagged);
    assert.deepEqual(childrenOf(flagged.pid as number), [], 'with the flags turned off it serves in the first process');
  } finally {
    const exited = new Promise((resolve) => flagged.once('exit', resolve));
    flagged.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});

test('a server killed by a signal: the first process exits by the same signal', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [LOOM, 'serve', '--store', store.dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await listening(child);
  const [server] = childrenOf(child.pid as number);
  assert.ok(server !== undefined);
  const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, by) => resolve([code, by])));
  process.kill(server, 'SIGKILL');
  assert.deepEqual(await exited, [null, 'SIGKILL']);
});
