// The worker state machine, events in and instructions out, no threads or network: batching, run ids on cancel
// and reports, inputs and their ownership, held values, requeue after a thread death, hand-back, the load budget.
// Every machine here validates its invariants after each event.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeValue, type EncodedValue } from '@loom/protocol';
import type { WorkerEvent } from '../src/worker-events.js';
import type { ExecuteInstruction, WorkerInstruction } from '../src/worker-instructions.js';
import { WorkerState } from '../src/worker-state-machine.js';
import { HeldKeys, input, ok, summary, task, threw } from './task-doubles.js';

type Body<E> = E extends WorkerEvent ? Omit<E, 'stimulusId'> : never;

function machine(nthreads = 1, loadBudgetBytes?: number) {
  const held = new HeldKeys();
  const state = new WorkerState({ nthreads, held, validate: true, ...(loadBudgetBytes !== undefined ? { loadBudgetBytes } : {}) });
  state.inlineValueBytes = 1024;
  let stimuli = 0;
  const feed = (event: Body<WorkerEvent>): WorkerInstruction[] => state.handle({ ...event, stimulusId: `s${++stimuli}` } as WorkerEvent);
  const lines = (event: Body<WorkerEvent>): string[] => summary(feed(event));
  const dispatch = (): string[] => lines({ type: 'dispatch' });
  return { state, held, feed, lines, dispatch };
}

function executed(...results: Parameters<typeof ok>[0][]): Body<WorkerEvent> {
  return { type: 'executed', results: results.map((key) => ok(key, key)), threadFreed: true, slot: 0 };
}

describe('worker state machine', () => {
  test('tasks of an unmeasured function go one per thread; measured tiny ones travel as one batch', () => {
    const { lines, dispatch, feed } = machine(1);
    assert.deepEqual(lines({ type: 'compute', tasks: [task('a'), task('b'), task('c')] }), [], 'ready, waiting for the turn to end');
    assert.deepEqual(dispatch(), ['execute a']);
    assert.deepEqual(dispatch(), [], 'no free thread');
    const instructions = feed(executed('a'));
    assert.deepEqual(instructions, [
      { type: 'send-finished', key: 'a', runId: 1, value: encodeValue('a'), durationMs: 0.01, thread: 1, inline: true, store: true, stimulusId: 's4' },
    ]);
    assert.deepEqual(dispatch(), ['execute b,c']);
  });

  test('several threads share the ready queue fairly', () => {
    const { lines, dispatch } = machine(2);
    lines({ type: 'compute', tasks: [task('warm')] });
    dispatch();
    lines(executed('warm'));
    lines({ type: 'compute', tasks: ['a', 'b', 'c', 'd'].map((key) => task(key)) });
    assert.deepEqual(dispatch(), ['execute a,b', 'execute c,d']);
  });

  test('every report names the run it answers', () => {
    const { lines, dispatch } = machine(2);
    lines({ type: 'compute', tasks: [task('good', { runId: 7 }), task('bad', { runId: 8 })] });
    dispatch();
    assert.deepEqual(lines({ type: 'executed', results: [ok('good', 1), threw('bad')], threadFreed: true, slot: 0 }), ['finished good#7', 'failed bad#8']);
  });

  describe('cancel names the run it cancels', () => {
    for (const order of ['compute, then cancel', 'cancel, then compute'] as const) {
      test(`a cancel of run 1 with a compute of run 2 of the same key (${order}) runs the key, executing or queued`, () => {
        const { lines, dispatch } = machine(1);
        lines({ type: 'compute', tasks: [task('running', { runId: 1 }), task('queued', { runId: 1 })] });
        assert.deepEqual(dispatch(), ['execute running']);
        const cancel: Body<WorkerEvent> = { type: 'cancel', cancels: [{ key: 'running', runId: 1 }, { key: 'queued', runId: 1 }] };
        const compute: Body<WorkerEvent> = { type: 'compute', tasks: [task('running', { runId: 2 }), task('queued', { runId: 2 })] };
        for (const event of order === 'compute, then cancel' ? [compute, cancel] : [cancel, compute]) lines(event);
        // A late copy of the cancel changes nothing either.
        lines(cancel);
        assert.deepEqual(lines(executed('running')), ['finished running#2']);
        assert.deepEqual(dispatch(), ['execute queued']);
        assert.deepEqual(lines(executed('queued')), ['finished queued#2']);
      });
    }

    test('a cancel of the current run drops a queued task and silences an executing one; computing it again revives it', () => {
      const { lines, dispatch, state } = machine(1);
      lines({ type: 'compute', tasks: [task('run-1'), task('queued-1')] });
      dispatch();
      lines({ type: 'cancel', cancels: [{ key: 'run-1', runId: 1 }, { key: 'queued-1', runId: 1 }] });
      assert.deepEqual([state.executingCount, state.queuedCount], [1, 0]);
      assert.deepEqual(lines(executed('run-1')), [], 'the cancelled result is dropped');
      assert.deepEqual(dispatch(), [], 'the cancelled queued task never reaches a thread');

      lines({ type: 'compute', tasks: [task('run-2')] });
      dispatch();
      lines({ type: 'cancel', cancels: [{ key: 'run-2', runId: 1 }] });
      lines({ type: 'compute', tasks: [task('run-2', { runId: 2 })] });
      assert.deepEqual(lines(executed('run-2')), ['finished run-2#2'], 'the executing result serves the new run');
    });

  });

  describe('inputs', () => {
    test('loaded inputs make a task ready; unobtainable ones are reported missing with the run id', () => {
      const { feed, lines, dispatch } = machine(2);
      const loads = feed({ type: 'compute', tasks: [task('uses-x', { inputs: [input('x')] }), task('uses-ghost', { inputs: [input('ghost')], runId: 4 })] });
      assert.deepEqual(loads, [
        { type: 'load-inputs', key: 'uses-x', attempt: 0, inputs: [input('x')], stimulusId: 's1' },
        { type: 'load-inputs', key: 'uses-ghost', attempt: 1, inputs: [input('ghost')], stimulusId: 's1' },
      ]);
      const x = encodeValue(5);
      lines({ type: 'inputs-loaded', key: 'uses-x', attempt: 0, values: [x], privateValues: [true] });
      assert.deepEqual(lines({ type: 'inputs-missing', key: 'uses-ghost', attempt: 1, missingKeys: ['ghost'], failedHolders: ['peer:1'] }), [
        'missing uses-ghost#4 [ghost]',
      ]);
      const [execute] = feed({ type: 'dispatch' }) as ExecuteInstruction[];
      assert.deepEqual(execute?.tasks.map((t) => [t.key, t.inputs, t.ownedInputs]), [['uses-x', [x], [true]]]);
      assert.deepEqual(dispatch(), []);
    });

    test('a private input goes to its thread without a copy once its last task is dispatched; shared ones never do', () => {
      const { feed, lines } = machine(2);
      const shared = encodeValue(new Float64Array(10));
      const own = encodeValue(new Float64Array(20));
      const local = encodeValue(new Float64Array(30));
      lines({ type: 'compute', tasks: [task('t1', { inputs: [input('shared')] }), task('t2', { inputs: [input('shared'), input('local'), input('own')] })] });
      lines({ type: 'inputs-loaded', key: 't1', attempt: 0, values: [shared], privateValues: [true] });
      lines({ type: 'inputs-loaded', key: 't2', attempt: 1, values: [shared, local, own], privateValues: [true, false, true] });
      const dispatched = (feed({ type: 'dispatch' }) as ExecuteInstruction[]).flatMap((execute) => execute.tasks);
      assert.deepEqual(dispatched.map((t) => [t.key, t.ownedInputs]), [
        ['t1', [false]],
        ['t2', [true, false, true]],
      ]);
    });

    test('an answer to a load that is no longer current is ignored', () => {
      const { lines, state } = machine(1);
      lines({ type: 'compute', tasks: [task('k', { inputs: [input('x')] })] });
      lines({ type: 'cancel', cancels: [{ key: 'k', runId: 1 }] });
      assert.deepEqual(lines({ type: 'compute', tasks: [task('k', { inputs: [input('x')], runId: 2 })] }), ['load k']);
      assert.deepEqual(lines({ type: 'inputs-missing', key: 'k', attempt: 0, missingKeys: ['x'], failedHolders: [] }), [], 'attempt 0 was cancelled');
      assert.equal(state.tasks.get('k')?.state, 'fetching');
    });
  });

  describe('held values', () => {
    test('a key assigned again while held is reported from the store, under the new run', () => {
      const { held, feed, lines } = machine(1);
      held.disk.add('k');
      assert.deepEqual(lines({ type: 'compute', tasks: [task('k', { runId: 3 })] }), ['read-held k']);
      const value: EncodedValue = encodeValue('held');
      assert.deepEqual(feed({ type: 'held-read', key: 'k', attempt: 0, value }), [
        { type: 'send-finished', key: 'k', runId: 3, value, durationMs: 0, thread: 0, inline: true, store: false, stimulusId: 's2' },
      ]);
    });

    test('a held value that cannot be read (its spill file is gone) makes the task run instead', () => {
      const { held, lines, dispatch } = machine(1);
      held.disk.add('k');
      lines({ type: 'compute', tasks: [task('k', { runId: 3 })] });
      held.disk.delete('k');
      assert.deepEqual(lines({ type: 'held-read', key: 'k', attempt: 0, value: undefined }), []);
      assert.deepEqual(dispatch(), ['execute k']);
      assert.deepEqual(lines(executed('k')), ['finished k#3']);
    });

    test('an assignment to be answered from a held value and cancelled, or handed back, releases the value', () => {
      // The scheduler never runs a key where it counts a copy, so the copy here came from a run whose report it
      // did not take (a stale one): once the assignment is given up unanswered, nobody would ever free it.
      const { held, lines } = machine(1);
      held.disk.add('cancelled');
      held.memory.add('handed-back');
      assert.deepEqual(lines({ type: 'compute', tasks: [task('cancelled', { runId: 3 }), task('handed-back', { runId: 4 })] }), [
        'read-held cancelled',
        'read-held handed-back',
      ]);
      assert.deepEqual(lines({ type: 'cancel', cancels: [{ key: 'cancelled', runId: 3 }] }), ['release cancelled']);
      assert.deepEqual(lines({ type: 'held-read', key: 'cancelled', attempt: 0, value: encodeValue('stale') }), [], 'a read of the cancelled run');
      assert.deepEqual(lines({ type: 'close' }), ['hand-back handed-back', 'release handed-back']);
    });

    test('freeing a held value while it is read makes the task run instead', () => {
      const { held, lines, dispatch } = machine(1);
      held.memory.add('k');
      lines({ type: 'compute', tasks: [task('k')] });
      assert.deepEqual(lines({ type: 'free', keys: ['k'] }), ['release k']);
      held.memory.delete('k');
      assert.deepEqual(lines({ type: 'held-read', key: 'k', attempt: 0, value: encodeValue('stale') }), [], 'a read from before the free');
      assert.deepEqual(dispatch(), ['execute k']);
    });
  });

  describe('a thread that dies', () => {
    test('tasks it never ran go back to the queue in their original order', () => {
      const { lines, dispatch } = machine(1);
      lines({ type: 'compute', tasks: [task('m1')] });
      dispatch();
      lines(executed('m1'));
      lines({ type: 'compute', tasks: [task('m2'), task('m3'), task('m4')] });
      assert.deepEqual(dispatch(), ['execute m2,m3,m4']);
      lines({ type: 'requeued', tasks: [{ key: 'm3' }, { key: 'm4' }] });
      assert.deepEqual(lines({ type: 'executed', results: [threw('m2', 'thread died')], threadFreed: true, slot: 0 }), ['failed m2#1']);
      assert.deepEqual(dispatch(), ['execute m3,m4']);
    });

    test('a requeued task whose thread took its inputs loads them again', () => {
      const { feed, lines } = machine(1);
      lines({ type: 'compute', tasks: [task('needs-x', { inputs: [input('x', 10)] })] });
      const x = encodeValue(new Float64Array(10));
      lines({ type: 'inputs-loaded', key: 'needs-x', attempt: 0, values: [x], privateValues: [true] });
      const [first] = feed({ type: 'dispatch' }) as ExecuteInstruction[];
      assert.deepEqual(first?.tasks[0]?.ownedInputs, [true]);
      assert.deepEqual(lines({ type: 'requeued', tasks: [{ key: 'needs-x' }] }), ['load needs-x']);
      lines({ type: 'executed', results: [], threadFreed: true, slot: 0 });
      lines({ type: 'inputs-loaded', key: 'needs-x', attempt: 0, values: [encodeValue(new Float64Array(10))], privateValues: [true] });
      const [again] = feed({ type: 'dispatch' }) as ExecuteInstruction[];
      assert.deepEqual(again?.tasks.map((t) => [t.key, t.ownedInputs]), [['needs-x', [true]]]);
    });

    test('a requeued task that shared a private input with a task dispatched since loads it again', () => {
      // b, dispatched last, owned the shared buffer and its thread took it: a's copy of the reference is detached.
      const { feed, lines } = machine(2);
      lines({ type: 'compute', tasks: [task('a', { inputs: [input('x', 10)] })] });
      const x = encodeValue(new Float64Array(10));
      lines({ type: 'compute', tasks: [task('b', { inputs: [input('x', 10)] })] });
      lines({ type: 'inputs-loaded', key: 'a', attempt: 0, values: [x], privateValues: [true] });
      lines({ type: 'inputs-loaded', key: 'b', attempt: 1, values: [x], privateValues: [true] });
      const batches = (feed({ type: 'dispatch' }) as ExecuteInstruction[]).map((execute) => execute.tasks.map((t) => [t.key, t.ownedInputs]));
      assert.deepEqual(batches, [[['a', [false]]], [['b', [true]]]]);
      assert.deepEqual(lines({ type: 'requeued', tasks: [{ key: 'a' }] }), ['load a']);
    });
  });

  test('close hands back everything not executing, later assignments at once, and lets executing tasks report', () => {
    const { held, lines, dispatch, state } = machine(1);
    held.disk.add('held');
    lines({ type: 'compute', tasks: [task('r'), task('q1'), task('q2', { inputs: [input('x')] }), task('held')] });
    dispatch();
    assert.deepEqual(lines({ type: 'close' }), ['hand-back q1,q2,held', 'release held']);
    assert.deepEqual(lines({ type: 'compute', tasks: [task('late')] }), ['hand-back late']);
    assert.deepEqual(lines({ type: 'inputs-loaded', key: 'q2', attempt: 2, values: [encodeValue(1)], privateValues: [true] }), []);
    assert.deepEqual(lines(executed('r')), ['finished r#1']);
    assert.equal(state.tasks.size, 0);
  });

  test('closing, a key assigned again while it executes is not handed back: its result answers the new run', () => {
    const { lines, dispatch } = machine(1);
    lines({ type: 'compute', tasks: [task('k', { runId: 1 })] });
    dispatch();
    lines({ type: 'close' });
    assert.deepEqual(lines({ type: 'compute', tasks: [task('k', { runId: 2 })] }), []);
    assert.deepEqual(lines(executed('k')), ['finished k#2']);
  });

  test('closing, tasks a dying thread never ran are handed back', () => {
    const { lines, dispatch } = machine(1);
    lines({ type: 'compute', tasks: [task('w')] });
    dispatch();
    lines(executed('w'));
    lines({ type: 'compute', tasks: [task('a'), task('b')] });
    dispatch();
    lines({ type: 'close' });
    assert.deepEqual(lines({ type: 'requeued', tasks: [{ key: 'b' }] }), ['hand-back b']);
  });

  describe('the load budget', () => {
    const needs = (key: string, from: string, nbytes = 60) => task(key, { inputs: [input(from, nbytes)] });

    test('inputs to load wait for the budget in arrival order; tasks over inputs in memory never wait', () => {
      const { held, lines, dispatch, state } = machine(1, 100);
      held.memory.add('here');
      assert.deepEqual(lines({ type: 'compute', tasks: [needs('t1', 'r1'), needs('t2', 'r2'), needs('t3', 'r3'), needs('t4', 'here')] }), [
        'load t1',
        'load t4',
      ]);
      assert.equal(state.loadedBytes, 60, '60 of 100 bytes loaded: the next 60 wait');
      lines({ type: 'cancel', cancels: [{ key: 't2', runId: 1 }] });
      lines({ type: 'inputs-loaded', key: 't1', attempt: 0, values: [encodeValue(1)], privateValues: [true] });
      lines({ type: 'inputs-loaded', key: 't4', attempt: 3, values: [encodeValue(1)], privateValues: [false] });
      assert.deepEqual(dispatch(), ['execute t1', 'load t3'], 'dispatching t1 freed its share; the cancelled t2 never loads');
    });

    test('one input larger than the whole budget still loads, alone', () => {
      const { lines, dispatch } = machine(1, 10);
      assert.deepEqual(lines({ type: 'compute', tasks: [needs('big-1', 'r1'), needs('big-2', 'r2')] }), ['load big-1']);
      lines({ type: 'inputs-loaded', key: 'big-1', attempt: 0, values: [encodeValue(1)], privateValues: [true] });
      assert.deepEqual(dispatch(), ['execute big-1', 'load big-2']);
    });

    test('a paused worker loads nothing and starts nothing; resuming does both', () => {
      const { lines, dispatch } = machine(1, 1000);
      lines({ type: 'pause', paused: true });
      assert.deepEqual(lines({ type: 'compute', tasks: [needs('p1', 'r1'), task('p2')] }), []);
      assert.deepEqual(dispatch(), []);
      assert.deepEqual(lines({ type: 'pause', paused: false }), ['load p1']);
      assert.deepEqual(dispatch(), ['execute p2']);
    });

    test('a load that fails frees its share for the next task', () => {
      const { lines } = machine(1, 100);
      assert.deepEqual(lines({ type: 'compute', tasks: [needs('lost', 'ghost'), needs('next', 'r1')] }), ['load lost']);
      assert.deepEqual(lines({ type: 'inputs-missing', key: 'lost', attempt: 0, missingKeys: ['ghost'], failedHolders: ['peer:1'] }), [
        'missing lost#1 [ghost]',
        'load next',
      ]);
    });
  });

  test('the instructions of an event carry its stimulus id; transitions are traced under it', () => {
    const traced: string[] = [];
    const state = new WorkerState({ nthreads: 1, held: new HeldKeys(), trace: (key, from, to, id) => traced.push(`${id} ${key} ${from} -> ${to}`) });
    state.handle({ type: 'compute', tasks: [task('k')], stimulusId: 'compute-1' });
    const [execute] = state.handle({ type: 'dispatch', stimulusId: 'dispatch-2' });
    assert.equal(execute?.stimulusId, 'dispatch-2');
    state.handle({ type: 'executed', results: [ok('k', 1)], threadFreed: true, slot: 0, stimulusId: 'executed-3' });
    assert.deepEqual(traced, ['compute-1 k released -> ready', 'dispatch-2 k ready -> executing', 'executed-3 k executing -> forgotten']);
  });
});
