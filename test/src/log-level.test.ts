// What a user's terminal shows: a script that starts a LocalCluster, computes and closes prints its own output
// and no routine info logs from the scheduler, the workers or the client; LOOM_LOG_LEVEL=info brings them back.
// Each case runs the script as its own Node process with an environment it sets itself (the test runner exports
// LOOM_LOG_LEVEL=warn for the whole suite).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '@loom/client';

const dir = mkdtempSync(join(tmpdir(), 'loom-log-level-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const script = join(dir, 'user-script.mjs');
writeFileSync(script, `
import { Client, LocalCluster, delayed } from ${JSON.stringify(import.meta.resolve('@loom/client'))};
const cluster = await LocalCluster.start({ workers: 1 });
const client = await Client.connect(cluster.address);
const inc = delayed((x) => x + 1);
console.log('result', await inc(41).compute());
await client.close();
await cluster.close();
`);

interface ScriptOutput {
  stdout: string;
  /** pino's numeric levels of the JSON log lines on stdout and stderr, with the logger's name. */
  logs: { level: number; name: string }[];
}

function runScript(logLevel: string | undefined): Promise<ScriptOutput> {
  const env = { ...process.env };
  delete env['LOOM_LOG_LEVEL'];
  if (logLevel !== undefined) env['LOOM_LOG_LEVEL'] = logLevel;
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`the script exited with ${code}:\n${stdout}\n${stderr}`));
      const logs = `${stdout}\n${stderr}`.split('\n').flatMap((line) => {
        try {
          const parsed = JSON.parse(line) as { level?: unknown; name?: unknown };
          return typeof parsed.level === 'number' ? [{ level: parsed.level, name: String(parsed.name) }] : [];
        } catch {
          return [];
        }
      });
      resolve({ stdout, logs });
    });
  });
}

const PINO_WARN = 40;

test('by default a LocalCluster script prints its own output and no info-level logs', async () => {
  const { stdout, logs } = await runScript(undefined);
  assert.match(stdout, /^result 42$/m);
  const chatty = logs.filter((log) => log.level < PINO_WARN);
  assert.deepEqual(chatty, [], `below-warn log lines: ${JSON.stringify(chatty)}`);
});

test('LOOM_LOG_LEVEL=info brings the scheduler and worker info logs back', async () => {
  const { stdout, logs } = await runScript('info');
  assert.match(stdout, /^result 42$/m);
  const names = new Set(logs.filter((log) => log.level === 30).map((log) => log.name));
  assert.ok(names.has('loom-scheduler'), `info lines from: ${[...names].join(', ')}`);
  assert.ok(names.has('loom-worker'), `info lines from: ${[...names].join(', ')}`);
});

test('an unknown log level is refused before any process starts', async () => {
  await assert.rejects(LocalCluster.start({ logLevel: 'loud' as 'info' }), /log level 'loud' is not one of trace, debug, info/);
  await assert.rejects(LocalCluster.start({ env: { LOOM_LOG_LEVEL: 'warning' } }), /log level 'warning'/);
});
