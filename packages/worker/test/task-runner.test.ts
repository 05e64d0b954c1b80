// The task runner, the state machine's I/O shell, driven through test doubles (no threads, no network): one
// dispatch per event-loop turn, inputs from the store or peers, a scheduler message applied in an order that
// cannot lose a re-submitted task, held values that cannot be read, and hand-back on close.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createLogger, encodeValue, type EncodedValue } from '@loom/protocol';
import { MemoryStore } from '../src/data-store.js';
import { TaskRunner } from '../src/task-runner.js';
import type { SchedulerInstructions, TaskAssignment } from '../src/task-types.js';
import { input, ManualExecutor, MapFetcher, ok, RecordingReporter, task } from './task-doubles.js';

function setup(threads: number, remote = new Map<string, EncodedValue>()) {
  const store = new MemoryStore();
  const executor = new ManualExecutor(threads);
  const reporter = new RecordingReporter();
  const fetcher = new MapFetcher(remote);
  const runner = new TaskRunner({ store, executor, reporter, fetcher, address: 'self:1', logger: createLogger('worker-test', {}), validate: true });
  runner.setInlineValueBytes(1024);
  return { store, executor, reporter, runner, fetcher };
}

function message(parts: Partial<SchedulerInstructions>): SchedulerInstructions {
  return { functions: [], freeKeys: [], compute: [], cancel: [], shutdown: false, ...parts };
}

const compute = (...tasks: TaskAssignment[]) => message({ compute: tasks });

describe('TaskRunner', () => {
  test('tasks that become ready in one turn reach a thread together; results are stored and reported', async () => {
    const { executor, runner, reporter, store } = setup(1);
    runner.apply(compute(task('a')));
    await nextTurn();
    runner.onResults([ok('a', 1)], true, 0);
    runner.apply(compute(task('b'), task('c')));
    assert.deepEqual(executor.batches.length, 1, 'nothing is dispatched before the turn ends');
    await nextTurn();
    assert.deepEqual(executor.batches.map((batch) => batch.map((t) => t.key)), [['a'], ['b', 'c']]);
    assert.deepEqual(reporter.finishedReports.map((r) => [r.key, r.runId, r.inline]), [['a', 1, true]]);
    assert.equal(store.has('a'), true);
  });

  test('inputs come from the store or peers; an unobtainable one is reported missing, never failed', async () => {
    const remote = new Map([['remote-x', encodeValue(5)]]);
    const { executor, runner, reporter, store } = setup(2, remote);
    store.put('local-y', encodeValue(7));
    runner.apply(
      compute(
        task('uses-both', { inputs: [input('local-y', 0, ['self:1']), input('remote-x')] }),
        task('uses-ghost', { inputs: [input('ghost', 0, ['peer:1', 'peer:2'])], runId: 3 }),
      ),
    );
    await nextTurn();
    await nextTurn();
    assert.equal(executor.batches.length, 1);
    assert.deepEqual(executor.batches[0]?.[0]?.inputs.map((value) => value.bytes), [encodeValue(7).bytes, encodeValue(5).bytes]);
    assert.deepEqual(executor.batches[0]?.[0]?.ownedInputs, [false, true], 'the stored value is shared, the fetched one its own');
    assert.deepEqual(
      reporter.missingReports.map(({ key, runId, missingKeys, failedHolders }) => ({ key, runId, missingKeys, failedHolders })),
      [{ key: 'uses-ghost', runId: 3, missingKeys: ['ghost'], failedHolders: ['peer:1', 'peer:2'] }],
    );
    assert.equal(reporter.failedReports.length, 0);
  });

  test("an input read back from spill is the task's own, like a fetched one", async () => {
    const { executor, runner, store } = setup(1);
    store.put('spilled', encodeValue(new Float64Array(40)));
    // What a SpillStore does for a spilled key: not in memory, and every read a fresh buffer.
    store.inMemory = (key: string) => key !== 'spilled';
    const read = store.get.bind(store);
    store.get = async (key: string) => {
      const value = await read(key);
      return key === 'spilled' && value ? { codec: value.codec, bytes: new Uint8Array(value.bytes) } : value;
    };
    store.put('resident', encodeValue(new Float64Array(50)));
    runner.apply(compute(task('t', { inputs: [input('spilled', 0, ['self:1']), input('resident', 0, ['self:1'])] })));
    await nextTurn();
    await nextTurn();
    assert.deepEqual(executor.batches[0]?.map((t) => [t.key, t.ownedInputs]), [['t', [true, false]]]);
  });

  test('compute(k, run 2) and cancel(k, run 1) in one message run k; cancel(k, run 2) in the same message would not', async () => {
    const { executor, runner, reporter } = setup(1);
    runner.apply(compute(task('kept', { runId: 1 }), task('dropped', { runId: 1 })));
    await nextTurn();
    runner.apply(message({ compute: [task('kept', { runId: 2 })], cancel: [{ key: 'kept', runId: 1 }] }));
    runner.apply(message({ compute: [task('dropped', { runId: 2 })], cancel: [{ key: 'dropped', runId: 2 }] }));
    runner.onResults([ok('kept', 1)], true, 0);
    await nextTurn();
    assert.deepEqual(executor.batches.map((batch) => batch.map((t) => t.key)), [['kept']]);
    assert.deepEqual(reporter.finishedReports.map((r) => [r.key, r.runId]), [['kept', 2]]);
  });

  test('a key assigned again is reported from the store; if its copy cannot be read, it runs', async () => {
    const { executor, runner, reporter, store } = setup(1);
    store.put('held', encodeValue('kept'));
    store.put('unreadable', encodeValue('gone'));
    // What a SpillStore does when a spill file is missing: the read resolves undefined and the key is dropped.
    const read = store.get.bind(store);
    store.get = async (key: string) => {
      if (key !== 'unreadable') return read(key);
      store.delete(key);
      return undefined;
    };
    runner.apply(compute(task('held', { runId: 4 }), task('unreadable', { runId: 5 })));
    await nextTurn();
    await nextTurn();
    assert.deepEqual(reporter.finishedReports.map((r) => [r.key, r.runId, r.durationMs]), [['held', 4, 0]]);
    assert.deepEqual(executor.batches.map((batch) => batch.map((t) => t.key)), [['unreadable']]);
    runner.onResults([ok('unreadable', 'again')], true, 0);
    assert.deepEqual(reporter.finishedReports.map((r) => [r.key, r.runId]), [['held', 4], ['unreadable', 5]]);
    assert.equal(store.has('unreadable'), true);
  });

  test('close hands back queued tasks, keeps running ones, and hands back later assignments at once', async () => {
    const { runner, reporter } = setup(1);
    runner.apply(compute(task('r'), task('q1'), task('q2')));
    await nextTurn();
    assert.equal(runner.close(), 2);
    assert.deepEqual(reporter.handedBack, ['q1', 'q2']);
    const idle = runner.whenIdle();
    runner.apply(compute(task('late')));
    assert.deepEqual(reporter.handedBack, ['q1', 'q2', 'late']);
    runner.onResults([ok('r', 1)], true, 0);
    await idle;
    assert.deepEqual(reporter.finishedReports.map((r) => r.key), ['r']);
  });

  test('free releases stored results', () => {
    const { runner, store } = setup(1);
    store.put('x', encodeValue(1));
    runner.apply(message({ freeKeys: ['x', 'never-held'] }));
    assert.equal(store.has('x'), false);
  });
});
