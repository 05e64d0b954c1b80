import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTaskArgs, encodeTaskArgs, parseBytes, pb, LoomError, taskErrorFromWire, taskErrorToWire } from '../src/index.js';

test('parseBytes understands binary and decimal units and rejects junk', () => {
  assert.equal(parseBytes('2GiB'), 2 * 2 ** 30);
  assert.equal(parseBytes('512 MB'), 512e6);
  assert.equal(parseBytes(1024), 1024);
  assert.throws(() => parseBytes('lots'), /invalid byte size 'lots'/);
});

test('task arguments round-trip with dependency holes filled at any depth', () => {
  const bytes = encodeTaskArgs([1, null, { a: [null, 'x'] }], [
    { path: [1], dependency: 0 },
    { path: [2, 'a', 0], dependency: 1 },
  ], 'k');
  assert.deepEqual(decodeTaskArgs(bytes, ['first', 'second']), [1, 'first', { a: ['second', 'x'] }]);
});

test('user data shaped like a reference is left alone', () => {
  const bytes = encodeTaskArgs([{ __loomRef: 0 }], [], 'k');
  assert.deepEqual(decodeTaskArgs(bytes, ['no']), [{ __loomRef: 0 }]);
});

test('unserializable arguments fail with a clear error naming the task', () => {
  assert.throws(() => encodeTaskArgs([() => 1], [], 'task-1'), (error: unknown) =>
    error instanceof LoomError && error.code === 'SERIALIZATION_FAILED' && error.message.includes("task 'task-1'"));
});

test('task errors survive the wire with code, stack and key', () => {
  const original = new LoomError('TASK_FAILED', 'boom', { taskKey: 'inc-1', remoteStack: 'Error: boom\n  at x', errorName: 'RangeError' });
  const decoded = taskErrorFromWire(pb.TaskError.decode(pb.TaskError.encode(taskErrorToWire(original)).finish()));
  assert.equal(decoded.code, 'TASK_FAILED');
  assert.equal(decoded.taskKey, 'inc-1');
  assert.equal(decoded.errorName, 'RangeError');
  assert.match(decoded.stack ?? '', /remote stack/);
});
