// The pieces the warm-ups share: the LOOM_WARMUP switch, and the in-process stream that carries messages through
// the real serializers in both directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoopbackStream, nextTurn, schedulerService, warmUpEnabled, type loom } from '../src/index.js';

test('LOOM_WARMUP turns the warm-ups on with 1, true or on, and leaves them off otherwise', () => {
  for (const value of [undefined, '', '0', 'false', 'off']) assert.equal(warmUpEnabled({ LOOM_WARMUP: value }), false, String(value));
  for (const value of ['1', 'true', 'on', ' ON ']) assert.equal(warmUpEnabled({ LOOM_WARMUP: value }), true, value);
});

test('a loopback stream encodes what it writes, decodes what it receives on a later turn, and ends once', async () => {
  const method = schedulerService.workerSession;
  const sent: Array<{ bytes: Buffer; message: loom.v1.ISchedulerToWorker }> = [];
  let ends = 0;
  const stream = new LoopbackStream<loom.v1.ISchedulerToWorker, loom.v1.IWorkerToScheduler>(
    method.responseSerialize,
    method.requestDeserialize,
    (bytes, message) => sent.push({ bytes, message }),
    () => ends++,
  );
  const compute = { compute: [{ key: 'k', functionId: 'f', runId: 3 }] };
  stream.write(compute);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.message, compute);
  assert.equal(method.responseDeserialize(sent[0]!.bytes).compute?.[0]?.runId, 3, 'the bytes are the real encoding');

  const received: loom.v1.IWorkerToScheduler[] = [];
  stream.on('data', (message: loom.v1.IWorkerToScheduler) => received.push(message));
  stream.receive(method.requestSerialize({ handedBack: ['k'] }));
  assert.equal(received.length, 0, 'not in the same turn');
  await nextTurn();
  assert.deepEqual(received.map((message) => message.handedBack), [['k']]);

  stream.end();
  stream.cancel();
  stream.write(compute);
  assert.equal(ends, 1);
  assert.equal(sent.length, 1, 'nothing leaves an ended stream');
});
