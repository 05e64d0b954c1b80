import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoomError } from '@loom/protocol';
import { functionEntry, sanitizeName } from '../src/function-source.js';

function freeVariableError(fn: (...args: never[]) => unknown): LoomError {
  try {
    functionEntry(fn);
  } catch (error) {
    assert.ok(error instanceof LoomError);
    return error;
  }
  assert.fail('expected FREE_VARIABLE');
}

type Compiled = (...args: unknown[]) => unknown;

/** Compiles a shipped source the way a worker does: as an expression, else as the one method of an object literal. */
function compile(source: string): Compiled {
  try {
    return new Function(`return (${source}\n);`)() as Compiled;
  } catch {
    const holder = new Function(`return ({ ${source}\n });`)() as Record<string, Compiled>;
    return Object.values(holder)[0] as Compiled;
  }
}

test('a function using an outer variable is rejected, naming the variable and what to do', () => {
  const offset = 10;
  const error = freeVariableError((x: number) => x + offset);
  assert.equal(error.code, 'FREE_VARIABLE');
  assert.match(error.message, /'offset'/);
  assert.match(error.message, /argument/);
  assert.match(error.message, /module/);
});

test('every free variable is named once', () => {
  const a = 1;
  const b = 2;
  const error = freeVariableError((x: number) => x + a + b + a);
  assert.match(error.message, /variables 'a', 'b' /);
});

test('globals, parameters, locals and closures over the function’s own variables are allowed', () => {
  const fn = (values: number[], { scale = 2 } = {}) => {
    const total = values.reduce((sum, value) => sum + value * scale, 0);
    const helper = (n: number) => Math.round(n * factor);
    const factor = JSON.parse('1');
    let count = 0;
    for (const value of values) count += value > 0 ? 1 : 0;
    try {
      structuredClone(values);
    } catch (error) {
      console.error(error);
    }
    return { total: helper(total), count, buffer: Buffer.from('x').length, inner: inner() };
    function inner() {
      return arguments.length + count;
    }
  };
  assert.equal(functionEntry(fn).name, 'fn');
  assert.deepEqual(compile(functionEntry(fn).def.source as string)([1, 2]), { total: 6, count: 2, buffer: 1, inner: 2 });
});

test('recursion through a named function expression is not a free variable', () => {
  const fact = function fact(n: number): number {
    return n <= 1 ? 1 : n * fact(n - 1);
  };
  const entry = functionEntry(fact);
  assert.equal(compile(entry.def.source as string)(5), 120);
});

test('method shorthand and async methods are shipped as evaluable expressions', async () => {
  const tools = {
    double(x: number) {
      return x * 2;
    },
    async later(x: number) {
      return x + 1;
    },
  };
  const double = functionEntry(tools.double);
  assert.equal(double.name, 'double');
  assert.equal(compile(double.def.source as string)(21), 42);
  const later = functionEntry(tools.later);
  assert.equal(await compile(later.def.source as string)(1), 2);
});

test('async arrows and generators are accepted', async () => {
  const source = functionEntry(async (x: number) => x * 3).def.source as string;
  assert.equal(await compile(source)(2), 6);
  assert.doesNotThrow(() => functionEntry(function* count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }));
});

test('native and bound functions are rejected with a clear message', () => {
  assert.throws(() => functionEntry(Math.max), (error: unknown) =>
    error instanceof LoomError && error.code === 'SERIALIZATION_FAILED' && /native or bound/.test(error.message) && /Wrap it/.test(error.message));
  const bound = ((x: number, y: number) => x + y).bind(null, 1);
  assert.throws(() => functionEntry(bound), /native or bound/);
});

test('class constructors are rejected', () => {
  class Model {}
  assert.throws(() => functionEntry(Model as unknown as () => unknown), (error: unknown) =>
    error instanceof LoomError && error.code === 'SERIALIZATION_FAILED' && /is a class/.test(error.message));
});

test('the check is cached: the same source gives the same id; a different source a different id', () => {
  const a = functionEntry((x: number) => x + 1);
  const b = functionEntry((x: number) => x + 1);
  const c = functionEntry((x: number) => x + 2);
  assert.equal(a.id, b.id);
  assert.notEqual(a.id, c.id);
  const offset = 1;
  const failing = (x: number) => x + offset;
  assert.throws(() => functionEntry(failing), /offset/);
  assert.throws(() => functionEntry(failing), /offset/);
});

test('functions by module reference skip the source check', () => {
  const entry = functionEntry({ module: 'file:///srv/tasks.js', export: 'train' });
  assert.equal(entry.name, 'train');
  assert.deepEqual(entry.def.module, { specifier: 'file:///srv/tasks.js', exportName: 'train' });
  assert.equal(functionEntry({ module: '@acme/jobs', export: 'default' }).name, 'jobs');
  assert.notEqual(entry.id, functionEntry({ module: 'file:///srv/tasks.js', export: 'other' }).id);
});

test('names are sanitised into key prefixes', () => {
  assert.equal(sanitizeName(''), 'lambda');
  assert.equal(sanitizeName('bound add'), 'add');
  assert.equal(sanitizeName('my task/1'), 'my_task_1');
});
