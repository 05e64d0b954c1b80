// The transition table is the only way a task changes state: an edge it lacks is an error in validate mode and
// a loud warning otherwise (never a silent no-op), and work stealing sees only live queue entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoomError } from '@loom/protocol';
import type { SchedulerState } from '../src/index.js';
import { computes, Harness, task as fnTask } from './harness.js';

/** Tasks of a function that ran long before, so each worker is sent one task per thread and no more. */
const task: typeof fnTask = (key, dependencies, extra) => fnTask(key, dependencies, { functionId: 'slow', ...extra });

function cluster(validate: boolean, warnings: string[] = []): Harness {
  const h = new Harness({ validate, warnings, durationMs: 1000 });
  h.connectClient();
  return h;
}

/** The guarded transition function, reached the way a buggy handler would reach it. */
function forceTransition(state: SchedulerState, key: string, to: 'memory'): void {
  state.transition(state.tasks.get(key)!, to);
}

test('an edge the transition table lacks throws in validate mode', () => {
  const h = cluster(true);
  h.submit([task('k')], ['k']);
  assert.equal(h.stateOf('k'), 'queued');
  assert.throws(() => forceTransition(h.state, 'k', 'memory'), (error: unknown) => isLoomError(error, 'INTERNAL') && /queued -> memory/.test(error.message));
});

test('outside validate mode an impossible edge is logged as a warning and changes nothing', () => {
  const warnings: string[] = [];
  const h = cluster(false, warnings);
  h.submit([task('k')], ['k']);
  forceTransition(h.state, 'k', 'memory');
  assert.equal(h.stateOf('k'), 'queued');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /impossible transition queued -> memory for task 'k'/);
});

test('an idle worker steals a live task even when another queue holds more stale entries', () => {
  const h = cluster(true);
  h.addWorker('w1');
  h.addWorker('w2');
  const tasks = [
    task('x', [], { order: 0 }),
    task('y', [], { order: 1 }),
    task('a1', ['x'], { order: 2 }),
    task('a2', ['x'], { order: 3 }),
    task('a3', ['x'], { order: 4 }),
    task('b1', ['y'], { order: 5 }),
    task('b2', ['y'], { order: 6 }),
  ];
  assert.deepEqual(computes(h.submit(tasks, ['a1', 'a2', 'a3', 'b1', 'b2'])), ['x@w1', 'y@w2']);
  assert.deepEqual(computes(h.finish('w1', 'x')), ['a1@w1'], 'a2 and a3 wait in w1\'s queue');
  assert.deepEqual(computes(h.finish('w2', 'y')), ['b1@w2'], 'b2 waits in w2\'s queue');
  h.send({ type: 'release-keys', clientId: 'c1', keys: ['a2', 'a3'] }); // w1's queue: two stale entries
  assert.deepEqual(computes(h.addWorker('w3')), ['b2@w3'], 'w3 steals b2 rather than stay idle');
});

test('a task that loses its last dependent in the message that brings its input is released, not run', () => {
  const h = cluster(true);
  h.addWorker('w2');
  h.submit([task('t0'), task('t3', ['t0']), task('t4', ['t3'])], ['t4']);
  h.finish('w2', 't0');
  h.finish('w2', 't3');
  h.addWorker('w1', 2);
  assert.deepEqual(computes(h.submit([task('t0')], ['t0'])), ['t0@w1'], 't0 is wanted again and recomputed');
  assert.deepEqual(computes(h.send({ type: 'worker-closing', workerId: 'w2', handedBack: ['t4'] })), ['t4@w1']);
  h.send({ type: 'worker-removed', workerId: 'w2', reason: 'stream ended' }); // t3 lived only on w2
  assert.equal(h.stateOf('t3'), 'waiting', 't4 (running, it fetched t3 already) still counts on t3');
  // One message: t4 is done (so nobody needs t3) and t0 is done (so t3 could run).
  assert.deepEqual(computes(h.finish('w1', 't4', 't0')), []);
  assert.equal(h.stateOf('t3'), 'released');
});
