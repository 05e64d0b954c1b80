// The `loom` command end to end, over mutual TLS with a token: `loom scheduler` and `loom worker` processes
// started from the CLI, a client that computes through them, and SIGINT/SIGTERM shutting both down cleanly.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, delayed, EmbeddedRedis } from '@loom/client';
import { JobQueue } from '@loom/jobs';
import { isLoomError } from '@loom/protocol';

const LOOM = fileURLToPath(new URL('../../packages/cli/dist/src/main.js', import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Started {
  readonly child: ChildProcess;
  readonly ready: Record<string, string>;
  /** Everything the process wrote to stderr so far (its logs, at level warn). */
  stderr(): string;
}

/** Starts `loom ...` and resolves with the JSON of its LOOM_READY line. */
function startLoom(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(process.execPath, [LOOM, ...args], { env: { ...process.env, LOOM_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('LOOM_READY '));
      if (line) resolve({ child, ready: JSON.parse(line.slice('LOOM_READY '.length)), stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`loom ${args[0]} exited with ${code}: ${stderr}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

test('loom --help lists the commands; unknown commands and flags fail clearly', () => {
  const help = execFileSync(process.execPath, [LOOM, '--help'], { encoding: 'utf8' });
  assert.match(help, /loom scheduler/);
  assert.match(help, /--memory-limit/);
  assert.throws(() => execFileSync(process.execPath, [LOOM, 'frobnicate'], { stdio: 'pipe' }), /unknown command 'frobnicate'/);
  assert.throws(() => execFileSync(process.execPath, [LOOM, 'scheduler', '--bogus'], { stdio: 'pipe' }), /--bogus/);
  assert.throws(() => execFileSync(process.execPath, [LOOM, 'scheduler', '--host', '0.0.0.0'], { stdio: 'pipe', env: { ...process.env, LOOM_TOKEN: '' } }),
    /without a cluster token/);
});

test('scheduler and worker from the CLI over mutual TLS with a token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loom-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const tlsArgs = ['--tls-cert', cert, '--tls-key', key, '--tls-ca', cert];
  const token = 'cli-tls-token';
  const scheduler = await startLoom(['scheduler', '--port', '0', '--token', token, ...tlsArgs]);
  const address = scheduler.ready['address']!;
  const worker = await startLoom(['worker', address, '--nthreads', '2', '--memory-limit', '512MiB', '--name', 'cli-w', ...tlsArgs], { LOOM_TOKEN: token });
  assert.equal(worker.ready['name'], 'cli-w');

  const tls = { certFile: cert, keyFile: key, caFile: cert };
  await assert.rejects(Client.connect(address, { tls, timeoutMs: 5000 }), (error: unknown) => isLoomError(error, 'UNAUTHENTICATED'));
  await assert.rejects(Client.connect(address, { token, timeoutMs: 3000 }), 'a plaintext client cannot talk to a TLS scheduler');

  const client = await Client.connect(address, { token, tls });
  try {
    const square = delayed((x: number) => ({ squared: x * x, big: new Float64Array(200_000).fill(x) }));
    const result = (await square(7).compute()) as { squared: number; big: Float64Array };
    assert.equal(result.squared, 49);
    assert.equal(result.big.length, 200_000, 'a 1.6 MB value fetched from the worker over TLS, in chunks');
    const info = await client.schedulerInfo();
    assert.equal(info.workers[0]?.nthreads, 2);
    assert.equal(info.workers[0]?.memoryLimit, 512 * 2 ** 20);
  } finally {
    await client.close();
  }

  // The jobs runner reaches the same TLS scheduler with the same flags, and its job computes on the cluster.
  const redis = await EmbeddedRedis.start();
  try {
    const jobs = new URL('./fixtures/cluster-jobs.js', import.meta.url).pathname;
    const runner = await startLoom(['jobs', 'runner', '--scheduler', address, '--redis', redis.url, '--jobs', jobs, '--no-builtins', ...tlsArgs], { LOOM_TOKEN: token });
    const queue = await JobQueue.open(redis.url);
    try {
      const id = await queue.submit('sum-of-squares', { n: 10 });
      const done = await queue.finished(id, 60_000);
      assert.deepEqual([done.state, done.result], ['completed', 285], JSON.stringify(done.error ?? null));
    } finally {
      await queue.close();
    }
    runner.child.kill('SIGTERM');
    assert.equal(await exited(runner.child), 0, 'the runner exits cleanly on SIGTERM');
  } finally {
    await redis.close();
  }
  worker.child.kill('SIGTERM');
  assert.equal(await exited(worker.child), 0, 'worker exits cleanly on SIGTERM');
  scheduler.child.kill('SIGINT');
  assert.equal(await exited(scheduler.child), 0, 'scheduler exits cleanly on SIGINT');
  assert.doesNotMatch(scheduler.stderr(), /worker removed/, 'a worker that announced its shutdown is no warning');
});
