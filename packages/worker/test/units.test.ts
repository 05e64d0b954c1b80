// The worker's logic without threads or network: compiling shipped source, describing failures, and the task
// runner's rules (order, batching, cancel, missing inputs, hand-back) driven through test doubles.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createLogger, encodeTaskArgs, encodeValue, isLoomError, type EncodedValue, type FusedStep } from '@loom/protocol';
import { compileSource } from '../src/function-loader.js';
import { chainFunction, failingStep, type ChainParts } from '../src/fused-chain.js';
import { describeTaskFailure } from '../src/task-failure.js';
import { MemoryStore } from '../src/data-store.js';
import { withWorkerMallocSettings } from '../src/malloc-env.js';
import { TaskRunner } from '../src/task-runner.js';
import type { FetchOutcome, InputFetcher } from '../src/peer-fetch.js';
import type { TaskExecutor } from '../src/thread-pool.js';
import type { ThreadResult, ThreadTask } from '../src/thread-messages.js';
import type { FunctionSpec, MissingInputsReport, TaskAssignment, TaskFailedReport, TaskFinishedReport, TaskReporter, TaskFunction } from '../src/task-types.js';

describe('fused chains', () => {
  // A chain of three steps: parse a dependency, add a constant, then combine both earlier results.
  const functions = new Map<string, TaskFunction | Promise<TaskFunction>>([
    ['parse', (text: unknown) => Number(text)],
    ['addLater', async (x: unknown, y: unknown) => (x as number) + (y as number)],
    ['pair', (first: unknown, second: unknown) => [first, second]],
    ['explode', () => {
      throw new RangeError('step failed');
    }],
  ]);
  const parts: ChainParts = {
    load: (id) => functions.get(id) as TaskFunction,
    spec: (id) => ({ id, name: id, body: { kind: 'source', source: `${id}() {}` } }),
  };
  let stepCount = 0;
  const step = (template: unknown[], holes: Array<{ path: number[]; dependency: number }>, inputs: number[]): FusedStep => ({
    key: `step-${stepCount++}`,
    args: encodeTaskArgs(template, holes, 'k'),
    inputs,
  });

  test('steps read the dependencies and the results before them, awaiting async steps', async () => {
    const chain = chainFunction('parse+addLater+pair', ['parse', 'addLater', 'pair'], parts);
    const steps = [
      step([null], [{ path: [0], dependency: 0 }], [0]), // parse(dependency 0)
      step([null, 10], [{ path: [0], dependency: 0 }], [1]), // addLater(result of step 0, 10)
      step([null, null], [{ path: [0], dependency: 0 }, { path: [1], dependency: 1 }], [2, 1]), // pair(step 1, step 0)
    ];
    assert.deepEqual(await chain(steps, '32'), [42, 32]);
  });

  test('a failing step is remembered, so the failure names it; a malformed chain fails clearly', async () => {
    const chain = chainFunction('parse+explode', ['parse', 'explode'], parts);
    const steps = [step([null], [{ path: [0], dependency: 0 }], [0]), step([], [], [])];
    const error = await (chain(steps, '1') as Promise<unknown>).catch((thrown: unknown) => thrown);
    assert.ok(error instanceof RangeError);
    assert.equal(failingStep(error)?.spec?.name, 'explode');
    assert.equal(failingStep(error)?.key, steps[1]?.key, 'reported under the key the step would have had');
    await assert.rejects(chain([steps[0]], '1') as Promise<unknown>, (thrown: unknown) =>
      isLoomError(thrown, 'SERIALIZATION_FAILED') && /expects arguments for 2 steps, got 1/.test(thrown.message));
  });
});

describe('compileSource', () => {
  test('accepts every shape fn.toString() produces', async () => {
    assert.equal(compileSource('inc', 'function inc(x) { return x + 1 }')(1), 2);
    assert.equal(compileSource('arrow', '(x) => x * 2')(4), 8);
    assert.equal(compileSource('double', 'double(x) { return x * 2 } // trailing comment')(5), 10);
    assert.equal(await compileSource('later', 'async later(x) { return x }')(3), 3);
    const gen = compileSource('gen', '*gen(n) { yield n; yield n + 1 }') as (n: number) => Iterable<number>;
    assert.deepEqual([...gen(1)], [1, 2]);
  });

  test('source that is not a function names the function', () => {
    assert.throws(() => compileSource('nativeFn', 'function push() { [native code] }'), (error: unknown) =>
      isLoomError(error, 'FUNCTION_LOAD_FAILED') && /'nativeFn'/.test(error.message) && /\{ module, export \}/.test(error.message));
    assert.throws(() => compileSource('answer', '42'), /evaluates to number, not a function/);
  });
});

describe('describeTaskFailure', () => {
  const spec: FunctionSpec = { id: 'f', name: 'scale', body: { kind: 'source', source: 'function scale(x) { return x * factor }' } };

  test('a free variable the source mentions becomes FREE_VARIABLE', () => {
    const failure = describeTaskFailure(new ReferenceError('factor is not defined'), 'scale-1', spec);
    assert.equal(failure.code, 'FREE_VARIABLE');
    assert.match(failure.message, /^task 'scale-1' failed: function 'scale' uses 'factor', which does not exist on the worker\./);
  });

  test('other errors keep their own message, class and stack', () => {
    const reference = describeTaskFailure(new ReferenceError('elsewhere is not defined'), 'scale-1', spec);
    assert.equal(reference.code, 'TASK_FAILED');
    class HttpError extends Error {}
    const custom = describeTaskFailure(new HttpError('teapot'), 'scale-1', spec);
    assert.deepEqual([custom.code, custom.message, custom.errorName], ['TASK_FAILED', 'teapot', 'HttpError']);
    assert.match(custom.stack, /HttpError|Error: teapot/);
    assert.equal(describeTaskFailure('plain string', 'k', spec).message, 'plain string');
  });
});

class RecordingReporter implements TaskReporter {
  readonly finishedReports: TaskFinishedReport[] = [];
  readonly failedReports: TaskFailedReport[] = [];
  readonly missingReports: MissingInputsReport[] = [];
  readonly handedBack: string[] = [];
  finished(report: TaskFinishedReport): void {
    this.finishedReports.push(report);
  }
  failed(report: TaskFailedReport): void {
    this.failedReports.push(report);
  }
  missing(report: MissingInputsReport): void {
    this.missingReports.push(report);
  }
  handBack(keys: string[]): void {
    this.handedBack.push(...keys);
  }
}

class ManualExecutor implements TaskExecutor {
  readonly batches: ThreadTask[][] = [];
  idleCount: number;
  constructor(threads: number) {
    this.idleCount = threads;
  }
  define(): void {}
  run(tasks: ThreadTask[]): void {
    this.idleCount -= 1;
    this.batches.push(tasks);
  }
}

class MapFetcher implements InputFetcher {
  /** Keys asked for, in order. */
  readonly requested: string[] = [];
  constructor(private readonly values: Map<string, EncodedValue>) {}
  async fetch(key: string, holders: readonly string[]): Promise<FetchOutcome> {
    this.requested.push(key);
    const value = this.values.get(key);
    return value ? { ok: true, value } : { ok: false, failedHolders: [...holders] };
  }
}

function task(key: string, functionId = 'fn', inputs: TaskAssignment['inputs'] = []): TaskAssignment {
  return { key, functionId, args: encodeTaskArgs([], [], key), inputs, sendValue: true };
}

function ok(key: string, value: unknown, durationMs = 0.01): ThreadResult {
  const encoded = encodeValue(value);
  return { key, ok: true, codec: encoded.codec, bytes: encoded.bytes, durationMs };
}

function setup(threads: number, remote = new Map<string, EncodedValue>(), loadBudgetBytes?: number) {
  const store = new MemoryStore();
  const executor = new ManualExecutor(threads);
  const reporter = new RecordingReporter();
  const fetcher = new MapFetcher(remote);
  const runner = new TaskRunner({
    store,
    executor,
    reporter,
    fetcher,
    address: 'self:1',
    logger: createLogger('worker-test', {}),
    ...(loadBudgetBytes !== undefined ? { loadBudgetBytes } : {}),
  });
  runner.setInlineValueBytes(1024);
  return { store, executor, reporter, runner, fetcher };
}

describe('TaskRunner', () => {
  test('tasks of an unmeasured function go one per thread; measured tiny ones travel as one batch', async () => {
    const { executor, runner, reporter, store } = setup(1);
    runner.assign([task('a'), task('b'), task('c')]);
    await nextTurn();
    assert.deepEqual(executor.batches.map((batch) => batch.map((t) => t.key)), [['a']]);
    executor.idleCount = 1;
    runner.onResults([ok('a', 1)]);
    await nextTurn();
    assert.deepEqual(executor.batches[1]?.map((t) => t.key), ['b', 'c']);
    assert.equal(reporter.finishedReports[0]?.key, 'a');
    assert.ok(reporter.finishedReports[0]?.value, 'small values travel inline when sendValue is set');
    assert.equal(store.has('a'), true);
  });

  test('cancel drops queued tasks and silences running ones; reassigning revives a cancelled running task', async () => {
    const { executor, runner, reporter } = setup(1);
    runner.assign([task('run-1'), task('queued-1')]);
    await nextTurn();
    runner.cancel(['run-1', 'queued-1']);
    executor.idleCount = 1;
    runner.onResults([ok('run-1', 1)]);
    await nextTurn();
    assert.equal(executor.batches.length, 1, 'the cancelled queued task never reaches a thread');
    assert.equal(reporter.finishedReports.length, 0);

    runner.assign([task('run-2')]);
    await nextTurn();
    runner.cancel(['run-2']);
    runner.assign([task('run-2')]);
    runner.onResults([ok('run-2', 2)]);
    assert.deepEqual(reporter.finishedReports.map((r) => r.key), ['run-2']);
  });

  test('inputs come from the store or peers; an unobtainable one is reported missing, never failed', async () => {
    const remote = new Map([['remote-x', encodeValue(5)]]);
    const { executor, runner, reporter, store } = setup(2, remote);
    store.put('local-y', encodeValue(7));
    runner.assign([
      task('uses-both', 'fn', [
        { key: 'local-y', nbytes: 0, holders: ['self:1'] },
        { key: 'remote-x', nbytes: 0, holders: ['peer:1'] },
      ]),
      task('uses-ghost', 'fn', [{ key: 'ghost', nbytes: 0, holders: ['peer:1', 'peer:2'] }]),
    ]);
    await nextTurn();
    await nextTurn();
    assert.equal(executor.batches.length, 1);
    assert.deepEqual(executor.batches[0]?.[0]?.inputs.map((input) => input.bytes), [encodeValue(7).bytes, encodeValue(5).bytes]);
    assert.deepEqual(reporter.missingReports, [{ key: 'uses-ghost', missingKeys: ['ghost'], failedHolders: ['peer:1', 'peer:2'] }]);
    assert.equal(reporter.failedReports.length, 0);
  });

  test('hand-back gives up queued tasks, keeps running ones, and hands back later assignments at once', async () => {
    const { runner, reporter } = setup(1);
    runner.assign([task('r'), task('q1'), task('q2')]);
    await nextTurn();
    assert.deepEqual(runner.handBackQueued().sort(), ['q1', 'q2']);
    const idle = runner.whenIdle();
    runner.assign([task('late')]);
    assert.deepEqual(reporter.handedBack, ['late']);
    runner.onResults([ok('r', 1)]);
    await idle;
    assert.deepEqual(reporter.finishedReports.map((r) => r.key), ['r']);
  });

  test('a fetched input goes to its thread without a copy once its last task is dispatched; stored ones never do', async () => {
    const remote = new Map([
      ['shared', encodeValue(new Float64Array(10))],
      ['own', encodeValue(new Float64Array(20))],
    ]);
    const { executor, runner, store } = setup(2, remote);
    store.put('local', encodeValue(new Float64Array(30)));
    const holders = ['peer:1'];
    runner.assign([
      task('t1', 'fn', [{ key: 'shared', nbytes: 0, holders }]),
      task('t2', 'fn', [
        { key: 'shared', nbytes: 0, holders },
        { key: 'local', nbytes: 0, holders: ['self:1'] },
        { key: 'own', nbytes: 0, holders },
      ]),
    ]);
    await nextTurn();
    await nextTurn();
    const dispatched = executor.batches.flat();
    assert.deepEqual(dispatched.map((t) => [t.key, t.ownedInputs]), [
      ['t1', [false]],
      ['t2', [true, false, true]],
    ]);
  });

  test('an input read back from spill is the task\'s own, like a fetched one', async () => {
    const { executor, runner, store } = setup(1);
    const held = encodeValue(new Float64Array(40));
    store.put('spilled', held);
    // What a SpillStore does for a spilled key: not in memory, and every read a fresh buffer.
    store.inMemory = (key: string) => key !== 'spilled';
    const read = store.get.bind(store);
    store.get = async (key: string) => {
      const value = await read(key);
      return key === 'spilled' && value ? { codec: value.codec, bytes: new Uint8Array(value.bytes) } : value;
    };
    store.put('resident', encodeValue(new Float64Array(50)));
    runner.assign([task('t', 'fn', [{ key: 'spilled', nbytes: 0, holders: ['self:1'] }, { key: 'resident', nbytes: 0, holders: ['self:1'] }])]);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(executor.batches[0]?.map((t) => [t.key, t.ownedInputs]), [['t', [true, false]]]);
  });

  test('a requeued task whose thread took its inputs gathers them again', async () => {
    const remote = new Map([['x', encodeValue(new Float64Array(10))]]);
    const { executor, runner } = setup(1, remote);
    runner.assign([task('needs-x', 'fn', [{ key: 'x', nbytes: 0, holders: ['peer:1'] }])]);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(executor.batches[0]?.[0]?.ownedInputs, [true]);
    executor.idleCount = 1;
    runner.onRequeue(executor.batches[0] ?? []);
    assert.equal(runner.executing, 0);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(executor.batches[1]?.map((t) => [t.key, t.ownedInputs]), [['needs-x', [true]]]);
  });

  test('tasks a dying thread never ran go back to the queue in their original order', async () => {
    const { executor, runner } = setup(1);
    runner.assign([task('m1')]);
    await nextTurn();
    executor.idleCount = 1;
    runner.onResults([ok('m1', 1)]);
    runner.assign([task('m2'), task('m3'), task('m4')]);
    await nextTurn();
    assert.deepEqual(executor.batches[1]?.map((t) => t.key), ['m2', 'm3', 'm4']);
    executor.idleCount = 1;
    runner.onRequeue((executor.batches[1] ?? []).slice(1));
    runner.onResults([{ key: 'm2', ok: false, durationMs: 0, error: { code: 'TASK_FAILED', message: 'thread died', stack: '', errorName: 'ThreadExit' } }]);
    await nextTurn();
    assert.deepEqual(executor.batches[2]?.map((t) => t.key), ['m3', 'm4']);
  });

  describe('the load budget', () => {
    const remote = () => new Map(['r1', 'r2', 'r3'].map((key) => [key, encodeValue(key)]));
    const needs = (key: string, input: string, nbytes = 60) => task(key, 'fn', [{ key: input, nbytes, holders: ['peer:1'] }]);

    /** A runner whose one thread is busy with task 'busy' until `finishBusy()`. */
    async function busyRunner(budget: number) {
      const parts = setup(1, remote(), budget);
      parts.runner.assign([task('busy')]);
      await nextTurn();
      const finishBusy = () => {
        parts.executor.idleCount = 1;
        parts.runner.onResults([ok('busy', 0)]);
      };
      return { ...parts, finishBusy };
    }

    test('inputs to fetch wait for the budget in arrival order; tasks over inputs in memory never wait', async () => {
      const { executor, runner, store, fetcher, finishBusy } = await busyRunner(100);
      store.put('here', encodeValue(1));
      runner.assign([needs('t1', 'r1'), needs('t2', 'r2'), needs('t3', 'r3'), task('t4', 'fn', [{ key: 'here', nbytes: 60, holders: ['self:1'] }])]);
      await nextTurn();
      await nextTurn();
      assert.deepEqual(fetcher.requested, ['r1'], '60 of 100 bytes loaded: the next 60 wait');
      assert.equal(runner.queued, 4);
      runner.cancel(['t2']);
      finishBusy();
      await nextTurn();
      await nextTurn();
      assert.deepEqual(executor.batches.flat().map((t) => t.key), ['busy', 't1', 't4'], 'in arrival order');
      assert.deepEqual(fetcher.requested, ['r1', 'r3'], 'dispatching t1 freed its share; the cancelled t2 never loads');
    });

    test('one input larger than the whole budget still loads, alone', async () => {
      const { runner, fetcher, finishBusy } = await busyRunner(10);
      runner.assign([needs('big-1', 'r1'), needs('big-2', 'r2')]);
      await nextTurn();
      await nextTurn();
      assert.deepEqual(fetcher.requested, ['r1']);
      finishBusy();
      await nextTurn();
      await nextTurn();
      assert.deepEqual(fetcher.requested, ['r1', 'r2']);
    });

    test('a paused worker loads nothing; resuming starts the waiting loads', async () => {
      const { runner, fetcher } = setup(1, remote(), 1000);
      runner.setPaused(true);
      runner.assign([needs('p1', 'r1'), task('p2')]);
      await nextTurn();
      assert.deepEqual(fetcher.requested, []);
      runner.setPaused(false);
      await nextTurn();
      assert.deepEqual(fetcher.requested, ['r1']);
    });

    test('a load that fails frees its share for the next task', async () => {
      const { runner, reporter, fetcher } = await busyRunner(100);
      runner.assign([needs('lost', 'ghost'), needs('next', 'r1')]);
      await nextTurn();
      await nextTurn();
      assert.deepEqual(reporter.missingReports.map((r) => r.key), ['lost']);
      assert.deepEqual(fetcher.requested, ['ghost', 'r1']);
    });
  });
});

test('worker allocator settings are added, and a setting already in the environment is kept as given', () => {
  const added = withWorkerMallocSettings({ PATH: '/bin' });
  assert.equal(added['MALLOC_MMAP_THRESHOLD_'], '131072');
  assert.equal(added['GLIBC_TUNABLES'], 'glibc.malloc.hugetlb=1');
  assert.equal(added['PATH'], '/bin');
  const optedOut = withWorkerMallocSettings({ GLIBC_TUNABLES: '' });
  assert.equal(optedOut['GLIBC_TUNABLES'], '');
});
