// The scheduler state machine without a network: stimuli in, exact instructions out, invariants checked after
// every step (validate mode).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoomError } from '@loom/protocol';
import { clientUpdates, computes, freed, Harness, task } from './harness.js';

test('a chain runs in dependency order and the client hears of the result', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  assert.deepEqual(computes(h.submit([task('a'), task('b', ['a'])], ['b'])), ['a@w1']);
  assert.equal(h.stateOf('b'), 'waiting');
  const afterA = h.finish('w1', 'a');
  assert.deepEqual(computes(afterA), ['b@w1']);
  const afterB = h.finish('w1', 'b');
  assert.deepEqual(clientUpdates(afterB), ['b:memory']);
  assert.deepEqual(freed(afterB), ['a@w1'], 'a is freed once nothing needs it');
  assert.equal(h.stateOf('b'), 'memory');
});

test('releasing the result forgets the whole graph', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  h.submit([task('a'), task('b', ['a'])], ['b']);
  h.finish('w1', 'a');
  h.finish('w1', 'b');
  const released = h.send({ type: 'release-keys', clientId: 'c1', keys: ['b'] });
  assert.deepEqual(freed(released), ['b@w1']);
  assert.equal(h.state.tasks.size, 0);
});

test('root tasks stay queued in the scheduler until a slot is free', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1', 2);
  const keys = Array.from({ length: 10 }, (_, i) => `root-${i}`);
  const first = h.submit(keys.map((key, order) => task(key, [], { order })), keys);
  assert.deepEqual(computes(first), ['root-0@w1', 'root-1@w1'], 'unknown durations: one task per thread');
  assert.equal(h.stateOf('root-5'), 'queued');
  // Once a task's kind is known to be quick, the worker is given a deeper buffer.
  const next = h.finish('w1', 'root-0');
  assert.ok(computes(next).length >= 1);
  assert.equal(computes(next)[0], 'root-2@w1', 'graph order is kept');
});

test('tasks go to the worker holding most of their input bytes, and idle workers steal', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  h.addWorker('w2');
  const first = h.submit([task('x', [], { order: 0 }), task('y', [], { order: 1 }), task('z', ['x'], { order: 2 })], ['z', 'y']);
  assert.deepEqual(computes(first).sort(), ['x@w1', 'y@w2']);
  // w2 is busy with y, so z goes to w1 where x lives.
  assert.deepEqual(computes(h.finish('w1', 'x')), ['z@w1']);
});

test('an idle worker steals queued work instead of waiting', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  // a and b run a function never seen before (0.5 s assumed), so w1 takes one at a time.
  const slow = { functionId: 'slow-fn' };
  h.submit([task('x', [], { order: 0 }), task('a', ['x'], { order: 1, ...slow }), task('b', ['x'], { order: 2, ...slow })], ['a', 'b']);
  const afterX = h.finish('w1', 'x');
  assert.deepEqual(computes(afterX), ['a@w1'], 'one slot, so b waits in w1\'s queue');
  assert.deepEqual(computes(h.addWorker('w2')), ['b@w2'], 'the new idle worker steals b');
});

test('resources: a GPU task waits in no-worker until a GPU worker joins, and never over-subscribes', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('cpu', 4);
  const gpu = { GPU: 1 };
  const first = h.submit([task('g1', [], { resources: gpu }), task('g2', [], { resources: gpu })], ['g1', 'g2']);
  assert.deepEqual(computes(first), []);
  assert.equal(h.stateOf('g1'), 'no-worker');
  const joined = h.addWorker('gpu', 4, { GPU: 1 });
  assert.deepEqual(computes(joined), ['g1@gpu'], 'only one GPU, so only one GPU task at a time');
  assert.deepEqual(computes(h.finish('gpu', 'g1')), ['g2@gpu']);
});

test('a worker that dies: its running tasks are rescheduled and its data recomputed', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  h.addWorker('w2');
  h.submit([task('a', [], { order: 0 }), task('b', [], { order: 1 }), task('c', ['a', 'b'], { order: 2 })], ['c']);
  h.finish('w1', 'a');
  // b runs on w2; w1 (holding a) dies: a is needed again and waits for w2's slot.
  const removed = h.send({ type: 'worker-removed', workerId: 'w1', reason: 'killed' });
  assert.deepEqual(computes(removed), []);
  assert.equal(h.stateOf('a'), 'queued');
  assert.deepEqual(computes(h.finish('w2', 'b')), ['a@w2']);
  assert.deepEqual(computes(h.finish('w2', 'a')), ['c@w2']);
  assert.deepEqual(clientUpdates(h.finish('w2', 'c')), ['c:memory']);
});

test('a task that kills three workers errs with KILLED_WORKER', () => {
  const h = new Harness();
  h.connectClient();
  for (let round = 1; round <= 3; round++) {
    h.addWorker(`w${round}`);
    assert.equal(h.stateOf('bad') ?? 'new', round === 1 ? 'new' : 'processing');
    if (round === 1) h.submit([task('bad')], ['bad']);
    const removed = h.send({ type: 'worker-removed', workerId: `w${round}`, reason: 'killed' });
    if (round === 3) {
      assert.deepEqual(clientUpdates(removed), ['bad:erred']);
      const update = removed.find((i) => i.type === 'client-update');
      assert.ok(update?.type === 'client-update' && update.update.state === 'erred' && update.update.error.code === 'KILLED_WORKER');
    }
  }
  assert.equal(h.stateOf('bad'), 'erred');
});

test('retries: a failing task is retried, then errs, and its dependents err with the root cause', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  h.submit([task('flaky', [], { retries: 1 }), task('after', ['flaky'])], ['after']);
  const error = { code: 'TASK_FAILED', message: 'boom', stack: 'Error: boom', errorName: 'Error', taskKey: 'flaky', worker: 'addr-w1' };
  const firstFailure = h.send({ type: 'task-failed', workerId: 'w1', key: 'flaky', runId: h.runOf('flaky'), thread: 1, error });
  assert.deepEqual(computes(firstFailure), ['flaky@w1'], 'retried');
  const secondFailure = h.send({ type: 'task-failed', workerId: 'w1', key: 'flaky', runId: h.runOf('flaky'), thread: 1, error });
  assert.deepEqual(clientUpdates(secondFailure), ['after:erred']);
  assert.equal(h.state.tasks.get('after')!.error!.taskKey, 'flaky');
});

test('independent work carries on when a task fails', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  h.submit([task('bad', [], { order: 0 }), task('good', [], { order: 1 })], ['bad', 'good']);
  const error = { code: 'TASK_FAILED', message: 'boom', stack: '', errorName: 'Error', taskKey: 'bad', worker: '' };
  assert.deepEqual(computes(h.send({ type: 'task-failed', workerId: 'w1', key: 'bad', runId: h.runOf('bad'), thread: 1, error })), ['good@w1']);
});

test('missing inputs: the holder is dropped, the input recomputed, the task rerun', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  h.submit([task('a'), task('b', ['a'])], ['b']);
  h.finish('w1', 'a');
  h.addWorker('w2');
  // Pretend b ended on w2 and could not fetch a from w1.
  const b = h.state.tasks.get('b')!;
  assert.equal(b.state, 'processing');
  const runner = b.processingOn!.id;
  const result = h.send({ type: 'missing-inputs', workerId: runner, key: 'b', runId: h.runOf('b'), missingKeys: ['a'], failedHolders: ['addr-w1'] });
  assert.deepEqual(freed(result), ['a@w1']);
  assert.equal(h.stateOf('a'), 'processing', 'a is recomputed');
  assert.equal(h.stateOf('b'), 'waiting');
});

test('shared sub-results are computed once across graphs and clients', () => {
  const h = new Harness();
  h.connectClient('c1');
  h.connectClient('c2');
  h.addWorker('w1');
  assert.deepEqual(computes(h.submit([task('shared')], ['shared'], 'c1')), ['shared@w1']);
  assert.deepEqual(computes(h.submit([task('shared'), task('top', ['shared'])], ['top'], 'c2')), []);
  const done = h.finish('w1', 'shared');
  assert.deepEqual(clientUpdates(done), ['shared:memory']);
  assert.deepEqual(computes(done), ['top@w1']);
  h.send({ type: 'client-disconnected', clientId: 'c1' });
  assert.equal(h.stateOf('shared'), 'memory', 'still needed by c2\'s top');
});

test('releasing a running task cancels it on the worker', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  h.submit([task('slow')], ['slow']);
  const run = h.runOf('slow');
  const released = h.send({ type: 'release-keys', clientId: 'c1', keys: ['slow'] });
  assert.ok(released.some((i) => i.type === 'cancel-compute' && i.key === 'slow' && i.runId === run));
  assert.equal(h.state.tasks.size, 0);
  // A late result for it is freed, not kept.
  const late = h.send({ type: 'tasks-finished', workerId: 'w1', finished: [{ key: 'slow', runId: run, nbytes: 8, codec: 1, durationMs: 1, thread: 1, value: undefined }] });
  assert.deepEqual(freed(late), ['slow@w1']);
});

test('invalid graphs are refused whole with a clear code, changing nothing', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  assert.throws(() => h.submit([task('a', ['ghost'])], ['a']), (e: unknown) => isLoomError(e, 'UNKNOWN_DEPENDENCY') && /ghost/.test(e.message));
  assert.throws(
    () => h.submit([task('p', ['q']), task('q', ['r']), task('r', ['p'])], ['p']),
    (e: unknown) => isLoomError(e, 'CYCLIC_GRAPH') && /(p|q|r) -> (p|q|r) -> (p|q|r) -> (p|q|r)/.test(e.message),
  );
  assert.throws(() => h.submit([task('a', [], { functionId: 'nope' })], ['a']), (e: unknown) => isLoomError(e, 'INVALID_GRAPH'));
  assert.throws(
    () => h.send({ type: 'update-graph', clientId: 'nobody', tasks: [task('a')], functions: [], wanted: ['a'] }),
    (e: unknown) => isLoomError(e, 'UNKNOWN_CLIENT'),
  );
  assert.equal(h.state.tasks.size, 0);
  assert.deepEqual(computes(h.submit([task('fine')], ['fine'])), ['fine@w1'], 'still serving');
});

test('a fused chain must name functions that exist and are not chains themselves', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  const chain = (functionIds: string[]) => ({ id: `chain-${functionIds.join('-')}`, name: 'fused', chain: functionIds });
  const submitChain = (functions: Array<{ id: string; name: string; chain?: string[]; source?: string }>, key: string) =>
    h.send({ type: 'update-graph', clientId: 'c1', tasks: [task(key, [], { functionId: functions.at(-1)!.id })], functions, wanted: [key] });
  assert.throws(() => submitChain([chain(['ghost'])], 'a'), (e: unknown) => isLoomError(e, 'INVALID_GRAPH') && /'ghost'/.test(e.message));
  assert.throws(() => submitChain([chain([])], 'b'), (e: unknown) => isLoomError(e, 'INVALID_GRAPH') && /names no functions/.test(e.message));
  const inner = chain(['f']);
  assert.throws(
    () => submitChain([{ id: 'f', name: 'f', source: 'x => x' }, inner, chain([inner.id])], 'c'),
    (e: unknown) => isLoomError(e, 'INVALID_GRAPH') && /another fused function/.test(e.message),
  );
  assert.equal(h.state.tasks.size, 0);
  assert.deepEqual(computes(submitChain([{ id: 'f', name: 'f', source: 'x => x' }, chain(['f', 'f'])], 'd')), ['d@w1']);
  assert.deepEqual(h.state.functions.get('chain-f-f')?.chain, ['f', 'f']);
});

test('a closing worker hands back work, which runs elsewhere', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  h.submit([task('t')], ['t']);
  h.addWorker('w2');
  const handed = h.send({ type: 'worker-closing', workerId: 'w1', handedBack: ['t'] });
  assert.deepEqual(computes(handed), ['t@w2']);
});

test('wide fan-in of 1,000 tasks completes with validate mode on', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1', 2);
  h.addWorker('w2', 2);
  const leaves = Array.from({ length: 1000 }, (_, i) => task(`leaf-${i}`, [], { order: i }));
  let pending = computes(h.submit([...leaves, task('sum', leaves.map((l) => l.key), { order: 1000 })], ['sum']));
  let done = false;
  for (let guard = 0; guard < 5000 && !done; guard++) {
    const next: string[] = [];
    for (const entry of pending) {
      const [key, worker] = entry.split('@') as [string, string];
      const instructions = h.finish(worker, key);
      next.push(...computes(instructions));
      if (clientUpdates(instructions).includes('sum:memory')) done = true;
    }
    pending = next;
  }
  assert.ok(done);
  assert.equal(h.stateOf('sum'), 'memory');
  assert.equal([...h.state.tasks.values()].filter((t) => t.state === 'memory').length, 1, 'leaves freed');
});

test('a graph sent dependents-first is still accepted (sorted on arrival)', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1');
  assert.deepEqual(computes(h.submit([task('top', ['mid']), task('mid', ['leaf']), task('leaf')], ['top'])), ['leaf@w1']);
});

test('durations are learned per function: a slow function is handed out one task per thread', () => {
  const h = new Harness();
  h.connectClient();
  h.addWorker('w1', 1);
  const slow = { functionId: 'sleepy' };
  const first = h.submit([task('s1', [], { ...slow, order: 0 }), task('s2', [], { ...slow, order: 1 }), task('s3', [], { ...slow, order: 2 })], ['s1', 's2', 's3']);
  assert.deepEqual(computes(first), ['s1@w1']);
  const slowFinish = h.send({ type: 'tasks-finished', workerId: 'w1', finished: [{ key: 's1', runId: h.runOf('s1'), nbytes: 8, codec: 1, durationMs: 300, thread: 1, value: undefined }] });
  assert.deepEqual(computes(slowFinish), ['s2@w1'], '300 ms tasks are not pipelined');
});
