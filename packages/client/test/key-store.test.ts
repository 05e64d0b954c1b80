import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LoomError, codecToWire, encodeValue, pb, type loom } from '@loom/protocol';
import { Future, type FutureOwner } from '../src/future.js';
import { asCompleted, gather, type GatherOwner } from '../src/gather.js';
import { KeyStore, type KeyState } from '../src/key-store.js';

/** A client stand-in: a key store whose releases are recorded, and values "fetched" from a map. */
function harness(remote: Record<string, unknown> = {}) {
  const released: string[][] = [];
  const store = new KeyStore((keys) => released.push(keys));
  const fetched: string[] = [];
  const owner: FutureOwner & GatherOwner = {
    finalizer: new FinalizationRegistry<KeyState>((state) => store.drop(state)),
    dropReference: (state) => store.drop(state),
    fetchValue: async (state) => {
      await owner.fetchValues([state]);
      return state.value;
    },
    fetchValues: async (states) => {
      for (const state of states) {
        fetched.push(state.key);
        state.value = remote[state.key];
        state.hasValue = true;
      }
    },
  };
  const future = <T>(key: string) => new Future<T>(owner, store.hold(key).state);
  return { store, owner, released, fetched, future };
}

function memory(key: string, value?: unknown): loom.v1.IKeyUpdate {
  if (value === undefined) return { key, state: pb.KeyUpdate.State.MEMORY, holders: ['127.0.0.1:1'] };
  const encoded = encodeValue(value);
  return { key, state: pb.KeyUpdate.State.MEMORY, hasValue: true, value: encoded.bytes, codec: codecToWire(encoded.codec), holders: ['127.0.0.1:1'] };
}

test('an inline value resolves the future without a fetch; a value left on the worker is fetched once', async () => {
  const { store, future, fetched } = harness({ big: 'from worker' });
  const small = future<number>('small');
  const big = future<string>('big');
  const results = Promise.all([small.result(), big.result()]);
  assert.equal(small.status, 'pending');
  store.applyUpdates([memory('small', 42), memory('big')]);
  assert.deepEqual(await results, [42, 'from worker']);
  assert.equal(await big.result(), 'from worker');
  assert.deepEqual(fetched, ['big']);
  assert.equal(small.status, 'finished');
});

test('an erred key rejects with the remote error; a cancelled key with CANCELLED', async () => {
  const { store, future } = harness();
  const failing = future('f');
  const cancelled = future('c');
  store.applyUpdates([
    { key: 'f', state: pb.KeyUpdate.State.ERRED, error: { code: pb.ErrorCode.TASK_FAILED, message: 'boom', stack: 'Error: boom\n    at task', errorName: 'RangeError', taskKey: 'root-1' } },
    { key: 'c', state: pb.KeyUpdate.State.CANCELLED },
  ]);
  await assert.rejects(failing.result(), (error: unknown) =>
    error instanceof LoomError && error.code === 'TASK_FAILED' && error.taskKey === 'root-1' && error.errorName === 'RangeError' && /at task/.test(error.remoteStack ?? ''));
  await assert.rejects(cancelled.result(), (error: unknown) => error instanceof LoomError && error.code === 'CANCELLED');
  assert.equal(failing.status, 'error');
});

test('keys are reference-counted and released in one batch per event-loop turn', async () => {
  const { future, released } = harness();
  const a1 = future('a');
  const a2 = future('a');
  const b = future('b');
  a1.release();
  a1.release();
  await nextTurn();
  assert.deepEqual(released, [], 'another future still holds a');
  a2.release();
  b.release();
  await nextTurn();
  assert.deepEqual(released, [['a', 'b']]);
  await assert.rejects(a2.result(), /released/);
  assert.equal(a2.status, 'cancelled');
});

test('a key held again before its release went out keeps its state and is not released', async () => {
  const { store, future, released } = harness();
  const first = future<number>('k');
  store.applyUpdates([memory('k', 7)]);
  first.release();
  const second = future<number>('k');
  await nextTurn();
  assert.deepEqual(released, []);
  assert.equal(await second.result(), 7);
});

test('gather keeps the structure, fetches missing values in one batch and rejects with the first error', async () => {
  const { store, owner, future, fetched } = harness({ y: 'remote-y', z: 'remote-z' });
  const x = future<number>('x');
  const y = future<string>('y');
  const z = future<string>('z');
  const gathered = gather(owner, { list: [x, y], nested: { z }, plain: 3 });
  store.applyUpdates([memory('x', 1), memory('y'), memory('z')]);
  assert.deepEqual(await gathered, { list: [1, 'remote-y'], nested: { z: 'remote-z' }, plain: 3 });
  assert.deepEqual(fetched, ['y', 'z']);

  const bad = future('bad');
  const pending = future('never');
  const failed = gather(owner, [pending, bad]);
  store.applyUpdates([{ key: 'bad', state: pb.KeyUpdate.State.ERRED, error: { code: pb.ErrorCode.TASK_FAILED, message: 'nope' } }]);
  await assert.rejects(failed, /nope/);
});

test('asCompleted yields futures in completion order, done ones first', async () => {
  const { store, future } = harness();
  const [a, b, c] = [future('a'), future('b'), future('c')];
  store.applyUpdates([memory('b', 2)]);
  const order: string[] = [];
  const done = (async () => {
    for await (const finished of asCompleted([a, b, c])) order.push(finished.key);
  })();
  await nextTurn();
  store.applyUpdates([memory('c', 3)]);
  await nextTurn();
  store.applyUpdates([{ key: 'a', state: pb.KeyUpdate.State.ERRED, error: { message: 'x' } }]);
  await done;
  assert.deepEqual(order, ['b', 'c', 'a']);
});

test('closing fails pending futures and sends no further releases', async () => {
  const { store, future, released } = harness();
  const pending = future('p');
  store.close(new LoomError('CANCELLED', 'the client is closed'));
  await assert.rejects(pending.result(), /closed/);
  pending.release();
  await nextTurn();
  assert.deepEqual(released, []);
});

test('a future that is garbage-collected releases its key', async () => {
  setFlagsFromString('--expose-gc');
  const collectGarbage = runInNewContext('gc') as () => void;
  const { future, released } = harness();
  const kept = future('kept');
  (() => {
    future('dropped');
  })();
  for (let i = 0; i < 50 && released.length === 0; i++) {
    collectGarbage();
    await sleep(10);
  }
  assert.deepEqual(released, [['dropped']]);
  assert.equal(kept.status, 'pending');
});
