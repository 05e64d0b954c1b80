// Run ids and stale reports: each assignment of a key to a worker is a run with its own id; a report, cancel or
// missing-inputs message names the run it is about, so news of an earlier run never changes the current one.
// Every test here feeds stimuli and compares whole instruction lists (instructions name keys, not objects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '@loom/protocol';
import { workerReportFromWire } from '../src/wire-convert.js';
import { Harness, task } from './harness.js';

test('a missing-inputs report about an older copy of an input does not drop the fresh copy', () => {
  const c = new Harness();
  c.connectClient();
  c.addWorker('w1', 2);
  c.submit([task('a'), task('b', ['a'], { order: 1 }), task('d', ['a'], { order: 2 })], ['b', 'd']);
  c.finish('w1', 'a');
  const [runB, runD] = [c.runOf('b'), c.runOf('d')];
  assert.equal(c.stateOf('d'), 'processing');
  // b cannot read a on w1: a is dropped there and recomputed (on w1 again), then b runs again.
  c.send({ type: 'missing-inputs', workerId: 'w1', key: 'b', runId: runB, missingKeys: ['a'], failedHolders: ['addr-w1'] });
  c.finish('w1', 'a');
  assert.equal(c.stateOf('a'), 'memory');
  // d was sent a's holders before a was recomputed; its report is about the copy that is gone.
  const stale = c.send({ type: 'missing-inputs', workerId: 'w1', key: 'd', runId: runD, missingKeys: ['a'], failedHolders: ['addr-w1'] });
  assert.equal(c.stateOf('a'), 'memory', 'the fresh copy of a is kept');
  assert.deepEqual(stale, [{ type: 'compute', stimulusId: c.lastStimulus, workerId: 'w1', key: 'd', runId: c.runOf('d'), sendValue: true }]);
});

test('releasing and re-submitting a running key in one turn: the cancel names the old run, the compute a new one', () => {
  const c = new Harness();
  c.connectClient();
  c.addWorker('w1');
  c.submit([task('k')], ['k']);
  const first = c.runOf('k');
  const released = c.send({ type: 'release-keys', clientId: 'c1', keys: ['k'] });
  assert.deepEqual(released, [{ type: 'cancel-compute', stimulusId: c.lastStimulus, workerId: 'w1', key: 'k', runId: first }]);
  const resubmitted = c.submit([task('k')], ['k']);
  const second = c.runOf('k');
  assert.notEqual(second, first);
  assert.deepEqual(resubmitted, [{ type: 'compute', stimulusId: c.lastStimulus, workerId: 'w1', key: 'k', runId: second, sendValue: true }]);
  // The worker applies one message's computes before its cancels: the cancel of the old run leaves the new one.
  // A late report of the old run changes nothing (and frees nothing: the new run will announce that value).
  assert.deepEqual(c.finishRun('w1', 'k', first), []);
  assert.equal(c.stateOf('k'), 'processing');
  const done = c.finishRun('w1', 'k', second);
  assert.deepEqual(done.map((i) => i.type), ['client-update']);
  assert.equal(c.stateOf('k'), 'memory');
});

test('a result of a cancelled run from a worker that no longer runs the key is freed there', () => {
  const c = new Harness();
  c.connectClient();
  c.addWorker('w1');
  c.submit([task('k')], ['k']);
  const first = c.runOf('k');
  c.send({ type: 'release-keys', clientId: 'c1', keys: ['k'] });
  c.addWorker('w2');
  c.submit([task('k')], ['k']);
  assert.equal(c.state.tasks.get('k')!.processingOn!.id, 'w1', 'w1 is free again and first in line');
  c.send({ type: 'worker-closing', workerId: 'w1', handedBack: ['k'] });
  assert.equal(c.state.tasks.get('k')!.processingOn!.id, 'w2');
  assert.deepEqual(c.finishRun('w1', 'k', first), [{ type: 'free-keys', stimulusId: c.lastStimulus, workerId: 'w1', keys: ['k'] }]);
  assert.equal(c.stateOf('k'), 'processing', 'still waiting for the run on w2');
});

test('a failure of an earlier run neither spends a retry nor fails the current run', () => {
  const c = new Harness();
  c.connectClient();
  c.addWorker('w1');
  c.submit([task('k', [], { retries: 1 })], ['k']);
  const first = c.runOf('k');
  c.send({ type: 'release-keys', clientId: 'c1', keys: ['k'] });
  c.submit([task('k', [], { retries: 1 })], ['k']);
  const error = { code: 'TASK_FAILED', message: 'boom', stack: '', errorName: 'Error', taskKey: 'k', worker: 'w1' };
  assert.deepEqual(c.send({ type: 'task-failed', workerId: 'w1', key: 'k', runId: first, thread: 1, error }), []);
  const k = c.state.tasks.get('k')!;
  assert.equal(k.state, 'processing');
  assert.equal(k.retriesLeft, 1);
});

test('a report without a run id (run 0) is stale, even from the worker that runs the key', () => {
  // Run ids start at 1, so 0 names no run: a report that echoes none cannot be told from one of an earlier run.
  const c = new Harness();
  c.connectClient();
  c.addWorker('w1');
  c.addWorker('w2');
  c.submit([task('a', [], { order: 0 }), task('b', [], { order: 1 })], ['a', 'b']);
  assert.equal(c.state.tasks.get('a')!.processingOn!.id, 'w1');
  assert.ok(c.runOf('a') >= 1);
  assert.deepEqual(c.finishRun('w1', 'a', 0), [], 'the run on w1 may still announce this very value: nothing is freed');
  assert.equal(c.stateOf('a'), 'processing');
  assert.deepEqual(c.finishRun('w2', 'a', 0), [{ type: 'free-keys', stimulusId: c.lastStimulus, workerId: 'w2', keys: ['a'] }]);
  const error = { code: 'TASK_FAILED', message: 'boom', stack: '', errorName: 'Error', taskKey: 'a', worker: 'w1' };
  assert.deepEqual(c.send({ type: 'task-failed', workerId: 'w1', key: 'a', runId: 0, thread: 1, error }), []);
  assert.deepEqual(c.send({ type: 'missing-inputs', workerId: 'w1', key: 'a', runId: 0, missingKeys: [], failedHolders: [] }), []);
  assert.equal(c.stateOf('a'), 'processing');
  c.finish('w1', 'a');
  assert.equal(c.stateOf('a'), 'memory');
});

test('every instruction names the stimulus that caused it', () => {
  const c = new Harness();
  c.connectClient();
  c.addWorker('w1');
  c.submit([task('a'), task('b', ['a'])], ['b']);
  const instructions = c.finish('w1', 'a');
  assert.ok(instructions.length > 0);
  for (const instruction of instructions) assert.equal(instruction.stimulusId, c.lastStimulus);
});

test('run ids past 32 bits survive the wire both ways (a long-lived scheduler assigns billions)', () => {
  // One counter numbers every assignment; at 16k tasks a second it passes 2^32 within three days. A run id cut
  // to 32 bits on the wire would come back as another number, and every report would be stale from then on.
  const runId = 2 ** 32 + 5;
  const decode = <T>(codec: { encode(message: T): { finish(): Uint8Array }; decode(bytes: Uint8Array): T }, message: T) =>
    codec.decode(codec.encode(message).finish());
  assert.equal(decode(pb.ComputeTask, { key: 'k', runId }).runId, runId);
  assert.equal(decode(pb.CancelTask, { key: 'k', runId }).runId, runId);
  const report = workerReportFromWire(
    pb.WorkerToScheduler.decode(
      pb.WorkerToScheduler.encode({
        finished: [{ key: 'a', runId }],
        failed: [{ key: 'b', runId, error: { code: pb.ErrorCode.TASK_FAILED } }],
        missing: [{ key: 'c', runId }],
      }).finish(),
    ),
  );
  assert.deepEqual([report.finished[0]!.runId, report.failed[0]!.runId, report.missing[0]!.runId], [runId, runId, runId]);
});
