// Start-up readiness and the warm-ups: a thread pool is ready only once its threads have loaded their code, a
// thread that cannot start fails the pool's start instead of taking a running worker down, and the warm-ups run
// their synthetic tasks through the real code while leaving the worker's own state exactly as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { decodeValue, encodeTaskArgs, silentLogger } from '@loom/protocol';
import { ThreadPool, type ThreadPoolEvents } from '../src/thread-pool.js';
import type { ThreadResult } from '../src/thread-messages.js';
import { warmUpTaskThread } from '../src/thread-warm-up.js';
import { warmUpWorker } from '../src/warm-up.js';
import type { WorkerEvent } from '../src/worker-events.js';
import { WorkerState } from '../src/worker-state-machine.js';
import { HeldKeys, input, ok, task, threw } from './task-doubles.js';

function recordingEvents(): ThreadPoolEvents & { received: ThreadResult[]; fatalErrors: Error[] } {
  const received: ThreadResult[] = [];
  const fatalErrors: Error[] = [];
  return {
    received,
    fatalErrors,
    results: (results) => received.push(...results),
    requeue: () => undefined,
    fatal: (error) => fatalErrors.push(error),
  };
}

test('a thread pool is ready once every thread has loaded its code, and its threads run a batch then', async () => {
  const events = recordingEvents();
  const pool = new ThreadPool(2, events, silentLogger());
  try {
    await pool.ready;
    pool.define([{ id: 'double', name: 'double', body: { kind: 'source', source: '(x) => 2 * x' } }]);
    pool.run([{ key: 'a', functionId: 'double', args: encodeTaskArgs([21], [], 'a'), inputs: [] }]);
    while (events.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const [result] = events.received;
    assert.ok(result?.ok);
    assert.equal(decodeValue(result), 42);
  } finally {
    await pool.close();
  }
});

test('a thread that cannot even start rejects the pool start, and reports no fatal error on top', async () => {
  const events = recordingEvents();
  // Too little heap to load the thread's code.
  const pool = new ThreadPool(1, events, silentLogger(), { maxOldGenerationSizeMb: 2, maxYoungGenerationSizeMb: 1 });
  try {
    await assert.rejects(pool.ready, /a task thread failed to start/);
    assert.deepEqual(events.fatalErrors, []);
  } finally {
    await pool.close();
  }
});

test('a pool closed before its threads are ready says so to whoever waits for it', async () => {
  const pool = new ThreadPool(1, recordingEvents(), silentLogger());
  const closed = pool.close();
  await assert.rejects(pool.ready, /closed before its threads were ready/);
  await closed;
});

test("a task thread's warm-up gets every task's right result back through the real batch path", async () => {
  assert.equal(await warmUpTaskThread(300, 100), 300);
});

test("the main thread's warm-up runs its tasks through a private runner and leaves no scratch directory", async () => {
  const scratch = () => readdirSync(tmpdir()).filter((name) => name.startsWith('loom-warm-up-')).length;
  const before = scratch();
  assert.equal(await warmUpWorker(2, 1_000), 1_000);
  assert.equal(scratch(), before);
});

type Body<E> = E extends WorkerEvent ? Omit<E, 'stimulusId'> : never;

/** A fixed run of a worker state machine: every instruction it gave, in order. */
function realSequence(): unknown[] {
  const state = new WorkerState({ nthreads: 2, held: new HeldKeys(), validate: true });
  state.inlineValueBytes = 1024;
  let stimuli = 0;
  const out: unknown[] = [];
  const feed = (event: Body<WorkerEvent>) => out.push(...state.handle({ ...event, stimulusId: `s${++stimuli}` } as WorkerEvent));
  feed({ type: 'compute', tasks: [task('a'), task('b'), task('c', { runId: 3 }), task('d', { inputs: [input('x', 8)] })] });
  feed({ type: 'dispatch' });
  feed({ type: 'executed', results: [ok('a', 1), threw('b')], threadFreed: true, slot: 0 });
  feed({ type: 'dispatch' });
  feed({ type: 'executed', results: [ok('c', 'three')], threadFreed: true, slot: 0 });
  feed({ type: 'free', keys: ['a'] });
  feed({ type: 'close' });
  return out;
}

test('a state machine run after the warm-up gives the same instructions as one run before it', async () => {
  const before = realSequence();
  assert.ok(before.length >= 6, 'the sequence executes, reports, loads and releases');
  await warmUpWorker(1, 500);
  assert.deepEqual(realSequence(), before);
});
