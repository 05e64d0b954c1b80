// The worker's small pure parts: fused chains, compiling shipped source, describing failures, the allocator
// and V8 settings. The task rules are in worker-state.test.ts (the state machine) and task-runner.test.ts (its shell).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeTaskArgs, isLoomError, type FusedStep } from '@loom/protocol';
import { compileSource } from '../src/function-loader.js';
import { chainFunction, failingStep, type ChainParts } from '../src/fused-chain.js';
import { describeTaskFailure } from '../src/task-failure.js';
import { withWorkerMallocSettings } from '../src/malloc-env.js';
import { workerV8Flags } from '../src/v8-flags.js';
import type { FunctionSpec, TaskFunction } from '../src/task-types.js';

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

test('worker allocator settings are added, and a setting already in the environment is kept as given', () => {
  const added = withWorkerMallocSettings({ PATH: '/bin' });
  assert.equal(added['MALLOC_MMAP_THRESHOLD_'], '131072');
  assert.equal(added['GLIBC_TUNABLES'], 'glibc.malloc.hugetlb=1');
  assert.equal(added['PATH'], '/bin');
  const optedOut = withWorkerMallocSettings({ GLIBC_TUNABLES: '' });
  assert.equal(optedOut['GLIBC_TUNABLES'], '');
});

test('worker V8 flags: single-threaded GC by default; LOOM_WORKER_V8_FLAGS replaces the list, empty for none', () => {
  assert.deepEqual(workerV8Flags({}), ['--single-threaded-gc']);
  assert.deepEqual(workerV8Flags({ LOOM_WORKER_V8_FLAGS: '  --max-semi-space-size=16\t--no-concurrent-marking ' }), ['--max-semi-space-size=16', '--no-concurrent-marking']);
  assert.deepEqual(workerV8Flags({ LOOM_WORKER_V8_FLAGS: '' }), []);
  // Each call is a fresh list: a caller that appends to it changes no later worker's flags.
  workerV8Flags({}).push('--oops');
  assert.deepEqual(workerV8Flags({}), ['--single-threaded-gc']);
});
