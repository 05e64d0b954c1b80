// The dashboard's task-event ring: bounded, in order, newest kept, and a reader's cursor sees each event once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskActivity } from '../src/task-activity.js';
import { TaskPrefix } from '../src/task-state.js';

const prefix = new TaskPrefix('fn-1', 'inc');

test('the ring keeps the newest events, in order, and readers page through it by sequence number', () => {
  const activity = new TaskActivity(8);
  for (let i = 1; i <= 20; i++) activity.finished(`w${i % 2}`, 1 + (i % 3), prefix, 2, 1000 + i);
  assert.equal(activity.finishedTotal, 20);
  assert.deepEqual(activity.eventsAfter(0, 100).map((event) => event.seq), [13, 14, 15, 16, 17, 18, 19, 20]);
  assert.deepEqual(activity.eventsAfter(17, 100).map((event) => event.seq), [18, 19, 20]);
  assert.deepEqual(activity.eventsAfter(0, 2).map((event) => event.seq), [19, 20], 'the newest when capped');
  assert.deepEqual(activity.eventsAfter(20, 100), []);
  const [last] = activity.eventsAfter(19, 1);
  assert.deepEqual({ ...last, prefix: last!.prefix?.name }, { seq: 20, worker: 'w0', thread: 3, prefix: 'inc', startMs: 1018, stopMs: 1020, kind: 'compute' });
});

test('transfers and spill reads and writes share the ring with tasks, with their kind and no prefix', () => {
  const activity = new TaskActivity(8);
  activity.finished('w0', 2, prefix, 2, 100);
  activity.workerActivity('w1', 'transfer', 90, 95);
  activity.workerActivity('w1', 'spill-read', 96, 97);
  activity.workerActivity('w0', 'spill-write', 98, 99);
  assert.deepEqual(
    activity.eventsAfter(0, 10).map(({ seq, worker, thread, prefix: p, startMs, stopMs, kind }) => [seq, worker, thread, p?.name, startMs, stopMs, kind]),
    [
      [1, 'w0', 2, 'inc', 98, 100, 'compute'],
      // No task thread moves data: I/O goes in the worker's thread 0 row.
      [2, 'w1', 0, undefined, 90, 95, 'transfer'],
      [3, 'w1', 0, undefined, 96, 97, 'spill-read'],
      [4, 'w0', 0, undefined, 98, 99, 'spill-write'],
    ],
  );
  assert.equal(activity.finishedTotal, 1, 'activity is not a finished task');
});

test('failures are events of kind error and are kept apart, newest last', () => {
  const activity = new TaskActivity(4);
  activity.finished('w', 1, prefix, 1, 10);
  for (let i = 0; i < 70; i++) activity.failed('w', 1, `k${i}`, prefix, { code: 'TASK_FAILED', message: `m${i}` }, 20 + i);
  assert.equal(activity.failedRunsTotal, 70);
  assert.ok(activity.eventsAfter(0, 10).every((event) => event.kind === 'error'));
  const failures = activity.recentFailures(3);
  assert.deepEqual(failures.map((failure) => failure.key), ['k67', 'k68', 'k69']);
  assert.equal(activity.recentFailures(1000).length, 64, 'the failure list is bounded too');
});
