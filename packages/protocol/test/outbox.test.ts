// The stream batching shared by the scheduler and the worker: size bounds are true upper bounds of the real
// protobuf encoding (checked against the generated encoder on random entries of every message a stream sends),
// and an outbox cuts its entries into messages under the budget without reordering them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodedSizeBound, Outbox, pb, taskFinishedSizeBound, type loom } from '../src/index.js';
import { Random } from '@loom/testing';


const ALPHABET = ['a', 'z', '0', '-', 'é', '漢', '🙂', ' '];

function text(rng: Random, max: number): string {
  let out = '';
  const length = rng.int(max + 1);
  for (let i = 0; i < length; i++) out += rng.pick(ALPHABET);
  return out;
}

function bytes(rng: Random, max: number): Uint8Array {
  return new Uint8Array(rng.int(max + 1)).fill(7);
}

function computeTask(rng: Random): loom.v1.IComputeTask {
  const resources: Record<string, number> = {};
  if (rng.chance(0.5)) resources[text(rng, 4)] = rng.next() * 4;
  return {
    key: text(rng, 40),
    functionId: text(rng, 64),
    args: bytes(rng, 5000),
    inputs: Array.from({ length: rng.int(4) }, () => ({ key: text(rng, 20), nbytes: rng.int(1e9), holders: Array.from({ length: rng.int(3) }, () => text(rng, 30)) })),
    sendValue: rng.chance(0.5),
    resources,
    runId: rng.int(2 ** 32),
  };
}

function keyUpdate(rng: Random): loom.v1.IKeyUpdate {
  if (rng.chance(0.3)) {
    return {
      key: text(rng, 40),
      state: pb.KeyUpdate.State.ERRED,
      error: { code: pb.ErrorCode.TASK_FAILED, message: text(rng, 200), stack: text(rng, 500), errorName: 'Error', taskKey: text(rng, 10), worker: text(rng, 20) },
    };
  }
  return { key: text(rng, 40), state: pb.KeyUpdate.State.MEMORY, nbytes: rng.int(1e12), codec: pb.Codec.CODEC_V8, value: bytes(rng, 70_000), hasValue: true, holders: [text(rng, 30)] };
}

function functionDef(rng: Random): loom.v1.IFunctionDef {
  if (rng.chance(0.3)) return { id: text(rng, 64), name: text(rng, 10), chain: { functionIds: [text(rng, 64), text(rng, 64)] } };
  if (rng.chance(0.3)) return { id: text(rng, 64), name: text(rng, 10), module: { specifier: text(rng, 40), exportName: text(rng, 10) } };
  return { id: text(rng, 64), name: text(rng, 10), source: text(rng, 3000) };
}

function workerReport(rng: Random): loom.v1.IWorkerToScheduler {
  const error = () => ({ code: rng.int(16), message: text(rng, 200), stack: text(rng, 800), errorName: text(rng, 10), taskKey: text(rng, 40), worker: text(rng, 30) });
  return {
    finished: Array.from({ length: rng.int(5) }, () => ({
      key: text(rng, 40),
      runId: rng.int(2 ** 32),
      nbytes: rng.int(1e12),
      codec: pb.Codec.CODEC_V8,
      durationMs: rng.next() * 1e4,
      ...(rng.chance(0.5) ? { value: bytes(rng, 70_000), hasValue: true } : {}),
    })),
    failed: Array.from({ length: rng.int(3) }, () => ({ key: text(rng, 40), runId: rng.int(2 ** 32), error: error() })),
    missing: Array.from({ length: rng.int(3) }, () => ({
      key: text(rng, 40),
      runId: rng.int(2 ** 32),
      missingKeys: Array.from({ length: rng.int(4) }, () => text(rng, 40)),
      failedHolders: Array.from({ length: rng.int(3) }, () => text(rng, 30)),
    })),
    lostKeys: Array.from({ length: rng.int(4) }, () => text(rng, 40)),
    handedBack: Array.from({ length: rng.int(4) }, () => text(rng, 40)),
    ...(rng.chance(0.5) ? { metrics: { managedBytes: rng.int(1e12), spilledBytes: rng.next() * 1e9, rssBytes: rng.int(1e10), executing: rng.int(64), ready: rng.int(1e4), paused: rng.chance(0.5) } } : {}),
    ...(rng.chance(0.3) ? { closing: true } : {}),
  };
}

test('size bounds are never below the real encoding of a message of such entries', () => {
  const rng = new Random(7);
  for (let round = 0; round < 300; round++) {
    const compute = Array.from({ length: rng.int(5) }, () => computeTask(rng));
    const functions = Array.from({ length: rng.int(3) }, () => functionDef(rng));
    const freeKeys = Array.from({ length: rng.int(5) }, () => text(rng, 40));
    const cancel = Array.from({ length: rng.int(3) }, () => ({ key: text(rng, 40), runId: rng.int(2 ** 32) }));
    const toWorker = pb.SchedulerToWorker.encode({ compute, functions, freeKeys, cancel }).finish().length;
    const workerBound = [...compute, ...functions, ...freeKeys, ...cancel].reduce((sum, entry) => sum + encodedSizeBound(entry), 0);
    assert.ok(toWorker <= workerBound, `round ${round}: worker message of ${toWorker} bytes, bound ${workerBound}`);

    const updates = Array.from({ length: rng.int(5) }, () => keyUpdate(rng));
    const graphAcks = Array.from({ length: rng.int(2) }, () => ({ graphId: text(rng, 20), tasksAdded: rng.int(1000), refused: rng.chance(0.5) }));
    const toClient = pb.SchedulerToClient.encode({ updates, graphAcks }).finish().length;
    const clientBound = [...updates, ...graphAcks].reduce((sum, entry) => sum + encodedSizeBound(entry), 0);
    assert.ok(toClient <= clientBound, `round ${round}: client message of ${toClient} bytes, bound ${clientBound}`);

    const report = workerReport(rng);
    const toScheduler = pb.WorkerToScheduler.encode(report).finish().length;
    const { metrics, closing, ...repeated } = report;
    let reportBound = Object.values(repeated).flat().reduce((sum: number, entry) => sum + encodedSizeBound(entry), 0);
    if (metrics) reportBound += encodedSizeBound(metrics);
    if (closing) reportBound += encodedSizeBound(closing);
    assert.ok(toScheduler <= reportBound, `round ${round}: worker report of ${toScheduler} bytes, bound ${reportBound}`);
  }
});

test('an outbox cuts its entries, in order, into messages under the budget', () => {
  const rng = new Random(11);
  const budget = 100_000;
  const outbox = new Outbox<loom.v1.ISchedulerToClient>();
  const sent: string[] = [];
  for (let i = 0; i < 40; i++) {
    const update = { ...keyUpdate(rng), key: `k${i}` };
    sent.push(`k${i}`);
    outbox.push('updates', update);
  }
  outbox.push('graphAcks', { graphId: 'g' });
  const messages = outbox.takeMessages(budget);
  assert.ok(messages.length > 1);
  assert.ok(outbox.isEmpty);
  const received: string[] = [];
  for (const message of messages) {
    const size = pb.SchedulerToClient.encode(message).finish().length;
    assert.ok(size <= budget || (message.updates?.length ?? 0) + (message.graphAcks?.length ?? 0) === 1, `a message of ${size} bytes`);
    for (const update of message.updates ?? []) received.push(update.key!);
  }
  assert.deepEqual(received, sent, 'no entry lost or reordered');
  assert.deepEqual(messages.at(-1)!.graphAcks, [{ graphId: 'g' }], 'the ack stays after the updates issued before it');
});

test('an entry larger than the budget travels alone; an empty outbox sends nothing', () => {
  const outbox = new Outbox<loom.v1.ISchedulerToWorker>();
  assert.deepEqual(outbox.takeMessages(1000), []);
  outbox.push('freeKeys', 'a');
  outbox.push('compute', { key: 'big', args: new Uint8Array(5000) });
  outbox.push('freeKeys', 'b');
  const messages = outbox.takeMessages(1000);
  assert.deepEqual(
    messages.map((message) => [message.freeKeys ?? [], (message.compute ?? []).map((task) => task.key)]),
    [[['a'], []], [[], ['big']], [['b'], []]],
  );
});

test('singular fields travel in the last message of a flush, in a message of their own if the last is full', () => {
  const outbox = new Outbox<loom.v1.IWorkerToScheduler>();
  outbox.set('metrics', { managedBytes: 1, paused: false });
  assert.equal(outbox.isEmpty, false);
  outbox.set('metrics', { managedBytes: 2, paused: true });
  assert.deepEqual(outbox.takeMessages(1000), [{ metrics: { managedBytes: 2, paused: true } }], 'the latest value replaces an earlier one');
  assert.ok(outbox.isEmpty);

  outbox.push('handedBack', 'a');
  outbox.set('closing', true);
  outbox.push('handedBack', 'b');
  assert.deepEqual(outbox.takeMessages(1000), [{ handedBack: ['a', 'b'], closing: true }]);

  const bound = encodedSizeBound('x');
  outbox.push('lostKeys', 'x');
  outbox.push('lostKeys', 'y');
  outbox.set('closing', true);
  assert.deepEqual(outbox.takeMessages(2 * bound), [{ lostKeys: ['x', 'y'] }, { closing: true }]);
});

test('the size bound of a result report is never below its real encoding', () => {
  const rng = new Random(13);
  const extremes = { nbytes: 2 ** 53, runId: 2 ** 53, durationMs: Number.MAX_VALUE, codec: pb.Codec.CODEC_ARROW_IPC };
  for (let round = 0; round < 500; round++) {
    const withValue = rng.chance(0.5);
    const value = bytes(rng, rng.chance(0.1) ? 70_000 : 200);
    const finished: loom.v1.ITaskFinished = {
      key: text(rng, 60),
      ...(rng.chance(0.2) ? extremes : { nbytes: rng.int(1e12), runId: rng.int(2 ** 32), durationMs: rng.next() * 1e4, codec: pb.Codec.CODEC_JSON }),
      ...(withValue ? { value, hasValue: true } : {}),
    };
    const real = pb.WorkerToScheduler.encode({ finished: [finished] }).finish().length;
    const bound = taskFinishedSizeBound(finished.key!.length, withValue ? value.byteLength : undefined);
    assert.ok(real <= bound, `round ${round}: ${real} bytes encoded, bound ${bound}`);
  }
});
