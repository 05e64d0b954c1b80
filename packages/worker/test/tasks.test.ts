// Running tasks: results with and without inline values, failures with their remote stacks, free variables,
// module functions, batching of reports, cancel and free_keys, and a task thread that dies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pb } from '@loom/protocol';
import type { WorkerHandle } from '../src/index.js';
import { FakeScheduler, type WorkerSession } from './fake-scheduler.js';
import { computeTask, decoded, Gate, gatedFunction, moduleFunction, readData, sourceFunction, startTestWorker } from './helpers.js';

function inc(x: number): number {
  return x + 1;
}

/** A task sent after some instructions: messages are applied in order, so its progress shows theirs. */
const probe = sourceFunction(function probe(x: number) {
  return x;
});

function bigArray(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

describe('tasks on one worker', () => {
  let fake: FakeScheduler;
  let worker: WorkerHandle;
  let session: WorkerSession;
  let fixtureDir: string;

  before(async () => {
    fixtureDir = mkdtempSync(join(tmpdir(), 'loom-worker-test-'));
    fake = await FakeScheduler.start({ heartbeatIntervalMs: 50, inlineValueBytes: 1024 });
    [session, worker] = await Promise.all([fake.nextSession(), startTestWorker(fake.address, { nthreads: 2, name: 'tasks-worker' })]);
  });

  after(async () => {
    await worker.close();
    await fake.close();
    rmSync(fixtureDir, { recursive: true, force: true });
  });

  test('the hello describes the worker and the welcome gives it its id', () => {
    assert.equal(worker.id, 'w-1');
    assert.equal(session.hello.name, 'tasks-worker');
    assert.equal(session.hello.address, worker.address);
    assert.equal(session.hello.nthreads, 2);
    assert.equal(session.hello.pid, process.pid);
    assert.ok((session.hello.memoryLimit ?? 0) > 0);
  });

  test('a task runs and its result is reported, inline when asked for and small', async () => {
    const fn = sourceFunction(inc);
    session.send({
      functions: [fn],
      compute: [computeTask('inc-1', fn, [41], { sendValue: true, runId: 3 }), computeTask('inc-2', fn, [1])],
    });
    const inline = await session.waitForFinished('inc-1');
    assert.equal(inline.runId, 3, 'the report names the run it answers');
    assert.equal(inline.hasValue, true);
    assert.equal(decoded(inline), 42);
    assert.equal(inline.codec, pb.Codec.CODEC_JSON, 'a small number travels as JSON');
    assert.ok((inline.durationMs ?? -1) >= 0);
    const stored = await session.waitForFinished('inc-2');
    assert.equal(stored.hasValue, false);
    assert.ok((stored.nbytes ?? 0) > 0);
    const read = await readData(worker.address, ['inc-2']);
    assert.equal(read.values.get('inc-2'), 2);
  });

  test('a value above the inline limit is reported without it', async () => {
    const fn = sourceFunction(bigArray);
    session.send({ functions: [fn], compute: [computeTask('big-1', fn, [1000], { sendValue: true })] });
    const finished = await session.waitForFinished('big-1');
    assert.equal(finished.hasValue, false);
    assert.ok((finished.nbytes ?? 0) > 1024);
  });

  test('many tasks in one message are reported in a few batched messages', async () => {
    const fn = sourceFunction(inc);
    const keys = Array.from({ length: 300 }, (_, i) => `batch-${i}`);
    const before = session.received.length;
    session.send({ functions: [fn], compute: keys.map((key, i) => computeTask(key, fn, [i])) });
    await session.waitUntil(() => keys.every((key) => session.finished.has(key)), 'all batch tasks');
    const messages = session.received.slice(before).filter((message) => message.finished.some((f) => f.key?.startsWith('batch-')));
    assert.ok(messages.length <= 20, `expected batched reports, got ${messages.length} messages for 300 tasks`);
  });

  test('async functions are awaited', async () => {
    const fn = sourceFunction(async function later(x: number) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return x * 3;
    });
    session.send({ functions: [fn], compute: [computeTask('later-1', fn, [5], { sendValue: true })] });
    assert.equal(decoded(await session.waitForFinished('later-1')), 15);
  });

  test('method shorthand source compiles', async () => {
    const holder = {
      double(x: number): number {
        return 2 * x;
      },
    };
    const fn = sourceFunction(holder.double, 'double');
    assert.match(fn.source ?? '', /^double\(/);
    session.send({ functions: [fn], compute: [computeTask('double-1', fn, [21], { sendValue: true })] });
    assert.equal(decoded(await session.waitForFinished('double-1')), 42);
  });

  test('a task that throws reports TASK_FAILED with the remote stack', async () => {
    const fn = sourceFunction(function explode(x: number) {
      throw new RangeError(`bad value ${x}`);
    });
    session.send({ functions: [fn], compute: [computeTask('explode-1', fn, [7], { runId: 4 })] });
    const error = await session.waitForFailed('explode-1');
    assert.equal(session.failed.get('explode-1')?.runId, 4);
    assert.equal(error.code, pb.ErrorCode.TASK_FAILED);
    assert.equal(error.message, 'bad value 7');
    assert.equal(error.errorName, 'RangeError');
    assert.equal(error.taskKey, 'explode-1');
    assert.equal(error.worker, worker.address);
    assert.match(error.stack ?? '', /RangeError: bad value 7\n\s+at explode \(loom-function:explode/);
  });

  test('a free variable gives FREE_VARIABLE naming it', async () => {
    const offset = 10;
    const fn = sourceFunction(function addOffset(x: number) {
      return x + offset;
    });
    session.send({ functions: [fn], compute: [computeTask('add-offset-ab12', fn, [1])] });
    const error = await session.waitForFailed('add-offset-ab12');
    assert.equal(error.code, pb.ErrorCode.FREE_VARIABLE);
    assert.equal(error.errorName, 'ReferenceError');
    assert.match(error.message ?? '', /^task 'add-offset-ab12' failed: function 'addOffset' uses 'offset', which does not exist on the worker/);
    assert.match(error.message ?? '', /pass 'offset' as an argument/);
  });

  test('a result that cannot be serialised gives SERIALIZATION_FAILED', async () => {
    const fn = sourceFunction(function makeFunction() {
      return () => 1;
    });
    session.send({ functions: [fn], compute: [computeTask('make-fn-1', fn, [])] });
    const error = await session.waitForFailed('make-fn-1');
    assert.equal(error.code, pb.ErrorCode.SERIALIZATION_FAILED);
    assert.match(error.message ?? '', /the result of task 'make-fn-1'/);
  });

  test('source that does not compile gives FUNCTION_LOAD_FAILED naming the function', async () => {
    const fn = { id: 'broken-src', name: 'broken', source: 'function broken( { return' };
    session.send({ functions: [fn], compute: [computeTask('broken-1', fn, [])] });
    const error = await session.waitForFailed('broken-1');
    assert.equal(error.code, pb.ErrorCode.FUNCTION_LOAD_FAILED);
    assert.match(error.message ?? '', /function 'broken'/);
  });

  test('a module function is imported by file URL and runs in a worker thread', async () => {
    const file = join(fixtureDir, 'fixture.mjs');
    writeFileSync(
      file,
      `import { isMainThread } from 'node:worker_threads';\n` +
        `export function square(x) { return { value: x * x, isMainThread }; }\n` +
        `export default function cube(x) { return x * x * x; }\n`,
    );
    const url = pathToFileURL(file).href;
    const square = moduleFunction(url, 'square');
    const cube = moduleFunction(url, 'default', 'cube');
    const absent = moduleFunction(pathToFileURL(join(fixtureDir, 'absent.mjs')).href, 'nothing');
    session.send({
      functions: [square, cube, absent],
      compute: [
        computeTask('square-1', square, [9], { sendValue: true }),
        computeTask('cube-1', cube, [3], { sendValue: true }),
        computeTask('absent-1', absent, []),
      ],
    });
    assert.deepEqual(decoded(await session.waitForFinished('square-1')), { value: 81, isMainThread: false });
    assert.equal(decoded(await session.waitForFinished('cube-1')), 27);
    const error = await session.waitForFailed('absent-1');
    assert.equal(error.code, pb.ErrorCode.FUNCTION_LOAD_FAILED);
    assert.match(error.message ?? '', /absent\.mjs/);
  });

  test('local inputs fill the argument holes', async () => {
    const fn = sourceFunction(inc);
    const add = sourceFunction(function add(a: number, b: { nested: number[] }) {
      return a + (b.nested[0] ?? 0);
    });
    session.send({ functions: [fn, add], compute: [computeTask('dep-a', fn, [1]), computeTask('dep-b', fn, [10])] });
    await session.waitForFinished('dep-a');
    await session.waitForFinished('dep-b');
    session.send({
      functions: [],
      compute: [
        computeTask('sum-ab', add, [null, { nested: [null] }], {
          holes: [
            { path: [0], dependency: 0 },
            { path: [1, 'nested', 0], dependency: 1 },
          ],
          inputs: [
            { key: 'dep-a', holders: [worker.address] },
            { key: 'dep-b', holders: [worker.address] },
          ],
          sendValue: true,
        }),
      ],
    });
    assert.equal(decoded(await session.waitForFinished('sum-ab')), 13);
  });

  test('free_keys drops results and the heartbeat measures what is held', async () => {
    const fn = sourceFunction(bigArray);
    session.send({ functions: [fn], compute: [computeTask('to-free', fn, [5000])] });
    const finished = await session.waitForFinished('to-free');
    const heldBefore = session.metrics.length;
    await session.waitUntil(() => session.metrics.length > heldBefore, 'a heartbeat');
    const withValue = session.metrics.at(-1);
    assert.ok((withValue?.managedBytes ?? 0) >= (finished.nbytes ?? Infinity));
    assert.ok((withValue?.rssBytes ?? 0) > 0);
    assert.equal(withValue?.paused, false);
    session.send({ freeKeys: ['to-free'] });
    const afterFree = session.metrics.length;
    await session.waitUntil(() => session.metrics.length > afterFree, 'a heartbeat after free');
    assert.equal(session.metrics.at(-1)?.managedBytes, (withValue?.managedBytes ?? 0) - (finished.nbytes ?? 0));
    assert.deepEqual((await readData(worker.address, ['to-free'])).missing, ['to-free']);
  });

  test('cancelled tasks are never reported, whether queued or running', async () => {
    const gate = new Gate();
    const fn = gatedFunction('cancel');
    // Two threads: both gated tasks start, the third waits in the queue.
    session.send({
      functions: [fn],
      compute: [
        computeTask('slow-a', fn, [gate.path, 'a'], { runId: 1 }),
        computeTask('slow-b', fn, [gate.path, 'b'], { runId: 1 }),
        computeTask('queued-c', fn, [gate.path, 'c'], { runId: 1 }),
      ],
    });
    await session.waitForMetrics((m) => m.executing === 2 && m.ready === 1, 'two tasks executing and one queued');
    session.send({ cancel: [{ key: 'slow-a', runId: 1 }, { key: 'queued-c', runId: 1 }] });
    // The queued task is gone: the cancels are applied, and only then may the running ones end.
    await session.waitForMetrics((m) => m.executing === 2 && m.ready === 0, 'the cancel to be applied');
    gate.open();
    await session.waitForFinished('slow-b');
    // Nothing executes any more, so slow-a has come back from its thread too, and was dropped.
    await session.waitForMetrics((m) => m.executing === 0 && m.ready === 0, 'the worker to be idle');
    for (const key of ['slow-a', 'queued-c']) {
      assert.equal(session.finished.has(key) || session.failed.has(key), false, `${key} must not be reported`);
    }
    assert.deepEqual((await readData(worker.address, ['slow-a'])).missing, ['slow-a']);
    gate.remove();
  });

  test('a cancel of an earlier run leaves the re-submitted task alone, in the same message or later', async () => {
    const gate = new Gate();
    const fn = gatedFunction('rerun');
    session.send({ functions: [fn], compute: [computeTask('rerun', fn, [gate.path, 'again'], { runId: 1, sendValue: true })] });
    await session.waitForMetrics((m) => m.executing === 1, 'the first run to execute');
    // The scheduler gave up run 1 and assigned the key again, in one message; then the cancel is repeated late.
    session.send({ cancel: [{ key: 'rerun', runId: 1 }], compute: [computeTask('rerun', fn, [gate.path, 'again'], { runId: 2, sendValue: true })] });
    session.send({ cancel: [{ key: 'rerun', runId: 1 }] });
    // Messages are applied in order: once a later task has run, these were applied while 'rerun' still ran.
    session.send({ functions: [probe], compute: [computeTask('rerun-probe', probe, [0])] });
    await session.waitForFinished('rerun-probe');
    gate.open();
    const finished = await session.waitForFinished('rerun');
    assert.equal(finished.runId, 2);
    assert.equal(decoded(finished), 'again');
    gate.remove();
  });

  test('a thread that dies fails its task and is replaced', async () => {
    const die = sourceFunction(function dieNow(code: number) {
      process.exit(code);
    });
    const fn = sourceFunction(inc);
    session.send({ functions: [die, fn], compute: [computeTask('die-1', die, [3])] });
    const error = await session.waitForFailed('die-1');
    assert.equal(error.code, pb.ErrorCode.TASK_FAILED);
    assert.match(error.message ?? '', /task 'die-1' failed: its worker thread died while running it \(exit code 3\)/);
    const died = session.failed.get('die-1')!.thread ?? 0;
    assert.ok(died === 1 || died === 2, `the failure names the thread that died (${died})`);
    session.send({ compute: Array.from({ length: 4 }, (_, i) => computeTask(`after-death-${i}`, fn, [i], { sendValue: true })) });
    for (let i = 0; i < 4; i++) {
      const finished = await session.waitForFinished(`after-death-${i}`);
      assert.equal(decoded(finished), i + 1);
      // The replacement takes the dead thread's place: still threads 1 and 2, one task-stream row each.
      assert.ok(finished.thread === 1 || finished.thread === 2, `ran on thread ${finished.thread}`);
    }
  });
});

test('a task that exhausts its thread heap fails saying what to do, and the worker carries on', async () => {
  // A 256 MiB worker caps its one thread's heap at 76 MiB, so the hog hits the cap within a second.
  const fake = await FakeScheduler.start({ heartbeatIntervalMs: 50, inlineValueBytes: 1024 });
  const [session, worker] = await Promise.all([
    fake.nextSession(),
    startTestWorker(fake.address, { nthreads: 1, memoryLimit: '256MiB', name: 'heap-worker' }),
  ]);
  try {
    const hog = sourceFunction(function hogHeap() {
      const kept: Array<{ index: number; text: string }> = [];
      for (let i = 0; ; i++) kept.push({ index: i, text: `row ${i}` });
    });
    const fn = sourceFunction(inc);
    session.send({ functions: [hog, fn], compute: [computeTask('hog-1', hog, [])] });
    const error = await session.waitForFailed('hog-1');
    assert.equal(error.code, pb.ErrorCode.TASK_FAILED);
    assert.match(error.message ?? '', /needed more than its thread's 76 MiB of JavaScript heap.*smaller partitions.*--memory-limit/s);
    session.send({ compute: [computeTask('after-hog', fn, [1], { sendValue: true })] });
    assert.equal(decoded(await session.waitForFinished('after-hog')), 2);
  } finally {
    await worker.close();
    await fake.close();
  }
});
