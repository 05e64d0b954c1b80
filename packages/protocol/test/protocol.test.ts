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

test('task errors survive the wire with code, stack, key and the remote error\'s own code', () => {
  const original = new LoomError('TASK_FAILED', 'boom', { taskKey: 'inc-1', remoteStack: 'Error: boom\n  at x', errorName: 'RangeError', remoteCode: 'ERR_OUT_OF_RANGE' });
  const decoded = taskErrorFromWire(pb.TaskError.decode(pb.TaskError.encode(taskErrorToWire(original)).finish()));
  assert.equal(decoded.code, 'TASK_FAILED');
  assert.equal(decoded.taskKey, 'inc-1');
  assert.equal(decoded.errorName, 'RangeError');
  assert.equal(decoded.remoteCode, 'ERR_OUT_OF_RANGE');
  assert.match(decoded.stack ?? '', /remote stack/);
  const withoutCode = taskErrorFromWire(pb.TaskError.decode(pb.TaskError.encode(taskErrorToWire(new LoomError('TASK_FAILED', 'x'))).finish()));
  assert.equal(withoutCode.remoteCode, undefined, 'none stays none, not ""');
});

test('small JSON-exact values use the JSON codec; everything else stays V8 and round-trips exactly', async () => {
  const { encodeValue, decodeValue } = await import('../src/index.js');
  for (const value of [42, 'text', true, null, [1, 'a', { b: [2] }], { nested: { x: 1.5 } }]) {
    const encoded = encodeValue(value);
    assert.equal(encoded.codec, 'json', JSON.stringify(value));
    assert.deepEqual(decodeValue(encoded), value);
  }
  const exotic: unknown[] = [-0, NaN, Infinity, undefined, 2n, new Date(0), new Float64Array([1]), new Map([[1, 2]]), [1, , 3], { u: undefined }];
  for (const value of exotic) {
    const encoded = encodeValue(value);
    assert.equal(encoded.codec, 'v8', String(value));
    assert.deepEqual(decodeValue(encoded), value);
  }
  const big = Array.from({ length: 10_000 }, (_, i) => i);
  assert.equal(encodeValue(big).codec, 'v8', 'large data uses the binary serializer');
});

test('task arguments take the JSON path when plain and the V8 path otherwise', () => {
  const plain = encodeTaskArgs([1, null], [{ path: [1], dependency: 0 }], 'k');
  assert.equal(plain[0], '{'.charCodeAt(0));
  assert.deepEqual(decodeTaskArgs(plain, [new Float32Array([2])]), [1, new Float32Array([2])]);
  const typed = encodeTaskArgs([new Uint8Array([7])], [], 'k');
  assert.equal(typed[0], 0xff);
  assert.deepEqual(decodeTaskArgs(typed, []), [new Uint8Array([7])]);
});
