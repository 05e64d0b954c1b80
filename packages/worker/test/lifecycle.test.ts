// A worker's life as a process and as a library: the LOOM_READY line, graceful close on SIGTERM, close() and the
// scheduler's shutdown handing back queued tasks, exiting when the scheduler is lost, and command-line errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isLoomError } from '@loom/protocol';
import { parseWorkerArgs, UsageError } from '../src/index.js';
import { FakeScheduler } from './fake-scheduler.js';
import { computeTask, decoded, Gate, gatedFunction, startTestWorker } from './helpers.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

interface WorkerProcess {
  child: ChildProcessWithoutNullStreams;
  ready: { role: string; id: string; name: string; address: string; pid: number; localDirectory: string };
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function spawnWorker(args: string[]): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, LOOM_LOG_LEVEL: 'warn' } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await new Promise<WorkerProcess['ready']>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      const line = /^LOOM_READY (.*)\n/m.exec(stdout);
      if (line) resolve(JSON.parse(line[1] as string) as WorkerProcess['ready']);
    });
    void exited.then((code) => reject(new Error(`worker exited with ${code} before it was ready: ${stderr}`)));
  });
  return { child, ready, stdout: () => stdout, stderr: () => stderr, exited };
}

describe('worker lifecycle', () => {
  let fake: FakeScheduler;

  before(async () => {
    fake = await FakeScheduler.start();
  });

  after(async () => {
    await fake.close();
  });

  test('the CLI announces itself once on stdout and SIGTERM closes it gracefully, handing back queued tasks', async () => {
    const sessionPromise = fake.nextSession();
    const worker = await spawnWorker([fake.address, '--nthreads', '1', '--name', 'cli-worker', '--resources', 'GPU=1,FOO=2']);
    const session = await sessionPromise;
    // By default main.js is a nanny: the line is its worker's, passed through, naming the worker's own pid.
    assert.deepEqual(worker.ready, {
      role: 'worker',
      id: worker.ready.id,
      name: 'cli-worker',
      address: session.hello.address,
      pid: session.hello.pid,
      localDirectory: worker.ready.localDirectory,
    });
    assert.notEqual(worker.ready.pid, worker.child.pid, 'the worker runs in a child of the nanny');
    assert.ok(existsSync(worker.ready.localDirectory));
    assert.match(worker.ready.id, /^w-\d+$/);
    assert.deepEqual({ ...session.hello.resources }, { GPU: 1, FOO: 2 });
    assert.equal(worker.stdout().trim().split('\n').length, 1);

    const gate = new Gate();
    const fn = gatedFunction('cli');
    session.send({
      functions: [fn],
      compute: [computeTask('cli-slow', fn, [gate.path, 1]), computeTask('cli-q1', fn, [gate.path, 2]), computeTask('cli-q2', fn, [gate.path, 3])],
    });
    await session.waitForMetrics((m) => m.executing === 1 && m.ready === 2, 'one task executing and two queued');
    worker.child.kill('SIGTERM');
    await session.waitUntil(() => session.closing, 'the worker to announce it is closing');
    assert.deepEqual([...session.handedBack].sort(), ['cli-q1', 'cli-q2'], 'the queued tasks come back while the running one still runs');
    assert.equal(session.finished.has('cli-slow'), false);
    gate.open();
    assert.equal(await worker.exited, 0);
    assert.ok(session.finished.has('cli-slow'), 'the running task finishes and is reported before the worker leaves');
    gate.remove();
    await session.waitUntil(() => session.ended, 'the session to end');
    assert.equal(existsSync(worker.ready.localDirectory), false, 'the scratch directory is removed on exit');
  });

  test('a worker that loses its scheduler exits with a non-zero status', async () => {
    const sessionPromise = fake.nextSession();
    // Without a nanny: one would restart a worker whose scheduler is still reachable.
    const worker = await spawnWorker([fake.address, '--no-nanny']);
    const session = await sessionPromise;
    session.drop();
    const code = await worker.exited;
    assert.notEqual(code, 0);
    assert.match(worker.stderr(), /lost the scheduler/);
  });

  test('close() hands back queued tasks, which then run elsewhere, and reports running ones', async () => {
    const [session, worker] = await Promise.all([fake.nextSession(), startTestWorker(fake.address, { nthreads: 1 })]);
    const gate = new Gate();
    const fn = gatedFunction('close');
    session.send({ functions: [fn], compute: [computeTask('close-slow', fn, [gate.path, 1]), computeTask('close-q', fn, [gate.path, 2])] });
    await session.waitForMetrics((m) => m.executing === 1 && m.ready === 1, 'one task executing and one queued');
    const closing = worker.close();
    await session.waitUntil(() => session.closing, 'the worker to announce it is closing');
    assert.deepEqual(session.handedBack, ['close-q']);
    gate.open();
    await closing;
    assert.ok(session.finished.has('close-slow'));
    const closingMessage = session.received.findIndex((message) => message.closing);
    const finishedMessage = session.received.findIndex((message) => message.finished.some((f) => f.key === 'close-slow'));
    assert.ok(closingMessage < finishedMessage, 'closing is announced before the running task finishes');
    await worker.closed;
    // What came back is whole: assigned to another worker, it runs there.
    const [other, otherWorker] = await Promise.all([fake.nextSession(), startTestWorker(fake.address, { nthreads: 1 })]);
    other.send({ functions: [fn], compute: [computeTask('close-q', fn, [gate.path, 2], { sendValue: true })] });
    assert.equal(decoded(await other.waitForFinished('close-q')), 2);
    await otherWorker.close();
    gate.remove();
  });

  test("the scheduler's shutdown closes the worker the same way", async () => {
    const [session, worker] = await Promise.all([fake.nextSession(), startTestWorker(fake.address, { nthreads: 1 })]);
    const gate = new Gate();
    const fn = gatedFunction('shutdown');
    session.send({ functions: [fn], compute: [computeTask('shutdown-slow', fn, [gate.path, 1]), computeTask('shutdown-q', fn, [gate.path, 2])] });
    await session.waitForMetrics((m) => m.executing === 1 && m.ready === 1, 'one task executing and one queued');
    session.send({ shutdown: true });
    await session.waitUntil(() => session.closing, 'the worker to announce it is closing');
    assert.deepEqual(session.handedBack, ['shutdown-q']);
    gate.open();
    await worker.closed;
    assert.ok(session.finished.has('shutdown-slow'));
    gate.remove();
  });

  test('command-line mistakes are clear errors', async () => {
    assert.throws(() => parseWorkerArgs(['127.0.0.1:1', '--threads', '2']), (error: unknown) =>
      error instanceof UsageError && /Unknown option '--threads'/.test(error.message));
    assert.throws(() => parseWorkerArgs([]), /missing the scheduler address/);
    assert.throws(() => parseWorkerArgs(['a:1', '--nthreads', 'x']), /--nthreads must be an integer/);
    assert.throws(() => parseWorkerArgs(['a:1', '--resources', 'GPU']), /NAME=AMOUNT/);
    assert.throws(() => parseWorkerArgs(['a:1', '--memory-limit', 'lots']), /--memory-limit/);
    assert.deepEqual(parseWorkerArgs(['a:1', '--memory-limit', '4GiB', '--port', '0']), { schedulerAddress: 'a:1', memoryLimit: 4 * 2 ** 30, port: 0 });
    assert.deepEqual(parseWorkerArgs(['a:1', '--memory-transfer', '0.25', '--memory-pause', 'off']), { schedulerAddress: 'a:1', memoryTransfer: 0.25, memoryPause: false });
    assert.throws(() => parseWorkerArgs(['a:1', '--memory-transfer', '2']), /--memory-transfer must be a fraction/);
    assert.equal(parseWorkerArgs(['--help']), undefined);

    const child = spawn(process.execPath, [MAIN, '127.0.0.1:1', '--bogus']);
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /loom-worker: Unknown option '--bogus'/);
  });

  test('a scheduler that refuses the worker makes startWorker reject with its reason', async () => {
    const guarded = await FakeScheduler.start({ token: 'right' });
    try {
      await assert.rejects(startTestWorker(guarded.address, { token: 'wrong' }), (error: unknown) =>
        isLoomError(error, 'UNAUTHENTICATED') && /wrong cluster token/.test(error.message));
    } finally {
      await guarded.close();
    }
  });

  test('a worker refuses to listen beyond loopback without a token', async () => {
    await assert.rejects(startTestWorker(fake.address, { host: '0.0.0.0', token: '' }), /refusing to listen on 0\.0\.0\.0 without a cluster token/);
  });
});
