// The packed batch format between the main thread and task threads: every field survives, large results
// travel separately, small ones are copied out so they do not pin the batch buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packResults, packTasks, unpackResults, unpackTasks, PACK_INPUT_LIMIT, PACK_RESULT_LIMIT } from '../src/thread-wire.js';

test('tasks round-trip with keys, functions, args and inputs of every codec', () => {
  const tasks = [
    { key: 'inc-ü-1', functionId: 'f1', args: new Uint8Array([1, 2, 3]), inputs: [] },
    {
      key: 'add-2',
      functionId: 'f2',
      args: new Uint8Array(0),
      inputs: [
        { codec: 'json' as const, bytes: Buffer.from('42') },
        { codec: 'v8' as const, bytes: new Uint8Array(100_000).fill(7) },
      ],
    },
  ];
  const unpacked = unpackTasks(packTasks(tasks).packed);
  assert.equal(unpacked.length, 2);
  assert.equal(unpacked[0]!.key, 'inc-ü-1');
  assert.deepEqual([...unpacked[0]!.args], [1, 2, 3]);
  assert.equal(unpacked[1]!.inputs[0]!.codec, 'json');
  assert.equal(Buffer.from(unpacked[1]!.inputs[0]!.bytes).toString(), '42');
  assert.equal(unpacked[1]!.inputs[1]!.codec, 'v8');
  assert.equal(unpacked[1]!.inputs[1]!.bytes.byteLength, 100_000);
});

test('large inputs travel as their own aligned buffers: owned ones as they are, shared ones copied once', () => {
  const owned = new Uint8Array(PACK_INPUT_LIMIT + 1).fill(1);
  const shared = new Uint8Array(PACK_INPUT_LIMIT + 8).fill(2);
  // A large value that is a view into a bigger buffer (e.g. a received gRPC message).
  const backing = new Uint8Array(PACK_INPUT_LIMIT + 100).fill(3);
  const view = backing.subarray(3, PACK_INPUT_LIMIT + 53);
  const small = Buffer.from('[1,2]');
  const tasks = [
    {
      key: 't1',
      functionId: 'f',
      args: new Uint8Array(0),
      inputs: [
        { codec: 'v8' as const, bytes: owned },
        { codec: 'v8' as const, bytes: shared },
        { codec: 'json' as const, bytes: small },
      ],
      ownedInputs: [true, false, true],
    },
    { key: 't2', functionId: 'f', args: new Uint8Array(0), inputs: [{ codec: 'arrow-ipc' as const, bytes: view }], ownedInputs: [true] },
  ];
  const { packed, transfer } = packTasks(tasks);
  assert.equal(packed.large.length, 3);
  assert.equal(packed.large[0], owned, 'an owned input is handed over as it is');
  assert.notEqual(packed.large[1], shared, 'a shared input is copied');
  assert.notEqual(packed.large[2]!.buffer, backing.buffer, 'a view is copied even when owned: the rest of its buffer is not ours');
  for (const bytes of packed.large) assert.equal(bytes.byteOffset, 0);
  assert.ok(packed.data.byteLength < PACK_INPUT_LIMIT, 'large inputs are not in the batch buffer');
  assert.deepEqual(new Set(transfer), new Set([packed.data, ...packed.large.map((bytes) => bytes.buffer)]));
  assert.equal(transfer.length, 4);
  const [t1, t2] = unpackTasks(packed);
  assert.equal(t1!.inputs[0]!.bytes, owned);
  assert.deepEqual(t1!.inputs[1]!.bytes, shared);
  assert.equal(Buffer.from(t1!.inputs[2]!.bytes).toString(), '[1,2]');
  assert.equal(t2!.inputs[0]!.codec, 'arrow-ipc');
  assert.deepEqual(t2!.inputs[0]!.bytes, view);
});

test('results round-trip: small packed and owned, large passed through, errors intact', () => {
  const large = new Uint8Array(PACK_RESULT_LIMIT + 1).fill(9);
  const packed = packResults([
    { key: 'a', ok: true, codec: 'json', bytes: Buffer.from('1'), durationMs: 0.5 },
    { key: 'b', ok: false, durationMs: 2, error: { code: 'TASK_FAILED', message: 'boom', stack: 'Error: boom', errorName: 'Error' } },
    { key: 'c', ok: true, codec: 'v8', bytes: large, durationMs: 3 },
  ]);
  assert.equal(packed.large.length, 1);
  const [a, b, c] = unpackResults(packed);
  assert.ok(a?.ok && a.codec === 'json' && Buffer.from(a.bytes).toString() === '1' && a.durationMs === 0.5);
  assert.ok(a.bytes.buffer !== packed.data, 'small results own their memory');
  assert.ok(b && !b.ok && b.error.message === 'boom' && b.error.code === 'TASK_FAILED');
  assert.ok(c?.ok && c.bytes === large);
});
