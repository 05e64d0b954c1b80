// The scheduler's Jobs and Models sections: which options turn them on (a flag over its variable, an empty
// value none), and, in a real `loom scheduler` process, that BullMQ is not loaded at start-up nor until the Jobs
// page is first read, that a Redis that is not there is an error in the section's JSON (without the URL's
// password) while the rest of the dashboard answers, and that a scheduler without the options has no sections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@loom/testing';
import { loadSections, sectionSettings } from '../src/dashboard-sections.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const HOOKS = new URL('./module-trace-hooks.js', import.meta.url).href;
const REGISTER = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(HOOKS)});`;

test('a flag wins over its variable; an empty value means no section', () => {
  assert.deepEqual(sectionSettings({}, {}), {});
  assert.deepEqual(sectionSettings({}, { LOOM_JOBS_REDIS: 'redis://a:1', LOOM_JOBS_QUEUE: 'etl', LOOM_MODEL_STORE: '/models' }), {
    '@loom/jobs/dashboard': { redisUrl: 'redis://a:1', queue: 'etl' },
    '@loom/models/dashboard': { storeDir: '/models' },
  });
  assert.deepEqual(sectionSettings({ 'jobs-redis': 'redis://b:2', 'model-store': '/other' }, { LOOM_JOBS_REDIS: 'redis://a:1', LOOM_MODEL_STORE: '/models' }), {
    '@loom/jobs/dashboard': { redisUrl: 'redis://b:2' },
    '@loom/models/dashboard': { storeDir: '/other' },
  });
  assert.deepEqual(sectionSettings({ 'model-store': '' }, { LOOM_MODEL_STORE: '/models', LOOM_JOBS_REDIS: '' }), {});
});

test('no settings, no sections (and nothing imported)', async () => {
  assert.deepEqual(await loadSections({}), []);
});

/** Starts `loom scheduler` with the module trace; resolves with its dashboard URL and what it wrote on stderr so far. */
async function startScheduler(args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; dashboard: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', REGISTER, MAIN, '--port', '0', '--dashboard-port', '0', ...args], {
    env: { ...process.env, LOOM_TRACE_MODULES: '^(bullmq|ioredis)$', LOOM_LOG_LEVEL: 'warn', LOOM_JOBS_REDIS: '', LOOM_MODEL_STORE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const dashboard = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const ready = /^LOOM_READY (.*)$/m.exec(stdout);
      if (ready) resolve((JSON.parse(ready[1]!) as { dashboard: string }).dashboard);
    });
    child.once('exit', (code) => reject(new Error(`the scheduler exited (${code}) before it was ready: ${stderr}`)));
  });
  return { child, dashboard, stderr: () => stderr };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

test('loom scheduler --jobs-redis: BullMQ is loaded when the Jobs page is first read, not before; a Redis that is not there is an error in the section', async () => {
  const password = `pw-${process.pid}`;
  const port = await freePort(); // nothing listens there
  const { child, dashboard, stderr } = await startScheduler([], { LOOM_JOBS_REDIS: `redis://:${password}@127.0.0.1:${port}` });
  try {
    const extensions = await (await fetch(new URL('/api/v1/extensions', dashboard))).json();
    assert.deepEqual(extensions, [{ id: 'jobs', title: 'Jobs' }]);
    assert.doesNotMatch(stderr(), /LOOM_TRACE loaded bullmq/, 'not loaded at start-up');
    const response = await fetch(new URL('/api/v1/x/jobs', dashboard));
    assert.equal(response.status, 200);
    const text = await response.text();
    const answer = JSON.parse(text) as { error?: { code: string; message: string } };
    assert.equal(answer.error?.code, 'REDIS_UNREACHABLE');
    assert.match(answer.error?.message ?? '', new RegExp(`redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
    assert.ok(!text.includes(password), 'the password is not in the JSON');
    assert.equal((await fetch(new URL('/api/v1/snapshot', dashboard))).status, 200, 'the rest of the dashboard answers');
    assert.match(stderr(), /LOOM_TRACE loaded bullmq/, 'loaded for the first read');
    assert.match(stderr(), /dashboard section 'jobs' cannot read its data \(REDIS_UNREACHABLE\)/);
    assert.ok(!stderr().includes(password), 'the password is not in the log');
  } finally {
    await stop(child);
  }
});

test('loom scheduler without the options has no sections and never loads BullMQ', async () => {
  const { child, dashboard, stderr } = await startScheduler([], {});
  try {
    assert.deepEqual(await (await fetch(new URL('/api/v1/extensions', dashboard))).json(), []);
    assert.equal((await fetch(new URL('/api/v1/x/jobs', dashboard))).status, 404);
    assert.doesNotMatch(stderr(), /LOOM_TRACE loaded/);
  } finally {
    await stop(child);
  }
});

test('loom scheduler --jobs-redis with a URL that is not one fails at start, without its password', async () => {
  const child = spawn(process.execPath, [MAIN, '--port', '0', '--dashboard-port', '0', '--jobs-redis', 'http://:hunter2@host:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(stderr, /loom scheduler: http:\/\/:\*\*\*@host:1: the scheme must be redis:\/\/ or rediss:\/\//);
  assert.ok(!stderr.includes('hunter2'));
});
