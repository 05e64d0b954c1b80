// The scheduler's start-up warm-up: it runs every synthetic task through a private scheduler, stops when asked,
// and leaves the real scheduler (and any state machine run after it) exactly as it would be without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startScheduler, warmUpScheduler, type Instruction } from '../src/index.js';
import { Harness, task } from './harness.js';

test('the warm-up runs every synthetic task and leaves a running scheduler untouched', async () => {
  const scheduler = await startScheduler({ port: 0 });
  try {
    const result = await warmUpScheduler({ tasks: 300, graphs: 2 });
    assert.deepEqual(result, { tasks: 600, stopped: false });
    assert.equal(scheduler.state.tasks.size, 0);
    assert.equal(scheduler.state.workers.size, 0);
    assert.equal(scheduler.state.clients.size, 0);
    assert.equal(scheduler.state.functions.size, 0);
  } finally {
    await scheduler.close();
  }
});

test('the warm-up stops between turns once told to', async () => {
  let turns = 0;
  const result = await warmUpScheduler({ tasks: 300, graphs: 2, shouldStop: () => ++turns > 2 });
  assert.equal(result.stopped, true);
  assert.ok(result.tasks < 600);
});

/** A fixed run of a scheduler state machine: every instruction, and where every task ended up. */
function realSequence(): { instructions: Instruction[]; states: Array<[string, string | undefined]> } {
  const harness = new Harness();
  const instructions: Instruction[] = [];
  const record = (list: Instruction[]) => instructions.push(...list);
  harness.connectClient();
  record(harness.addWorker('w1'));
  record(harness.addWorker('w2', 2));
  record(harness.submit([task('a'), task('b'), task('c', ['a', 'b']), task('d', ['c'], { priority: 1 })], ['c', 'd']));
  const runsOn = (key: string): string => {
    const compute = instructions.find((i) => i.type === 'compute' && i.key === key);
    assert.ok(compute?.type === 'compute', `${key} was assigned`);
    return compute.workerId;
  };
  for (const key of ['a', 'b', 'c']) record(harness.finish(runsOn(key), key));
  record(harness.send({ type: 'worker-removed', workerId: 'w2', reason: 'test' }));
  record(harness.send({ type: 'release-keys', clientId: 'c1', keys: ['c'] }));
  const states = [...harness.state.tasks.values()].map((t): [string, string | undefined] => [t.key, t.state]);
  return { instructions, states };
}

test('a state machine run after the warm-up gives the same instructions and states as one run before it', async () => {
  const before = realSequence();
  assert.ok(before.instructions.length >= 6, 'the sequence computes, reports and frees');
  await warmUpScheduler({ tasks: 300, graphs: 1 });
  assert.deepEqual(realSequence(), before);
});
