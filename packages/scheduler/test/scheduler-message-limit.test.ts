// Over a real gRPC connection: a burst of inline results that one worker message can carry but the client's
// update message cannot (it also names each value's holders) reaches the client as several messages under the
// limit, and the client's session survives; a value too large to reach the client inline under the limit reaches
// it as a location to fetch from. Before batches were cut by size, the scheduler wrote one message
// over its own send limit and the client lost its session and everything it held. The worker's welcome names the
// limit, so the worker cuts its own reports below it (packages/worker/test/scheduler-link.test.ts).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Client, credentials, type ClientDuplexStream, type MethodDefinition } from '@grpc/grpc-js';
import { grpcOptions, pb, schedulerService, type loom } from '@loom/protocol';
import { startScheduler } from '../src/index.js';

const LIMIT = 256 * 1024;
/** Holders travel in every client update, not in the worker's report: a long address makes the difference. */
const ADDRESS = `fake-worker.${'x'.repeat(2000)}:1`;

/** Received messages are decoded classes with every field present (see @loom/protocol services.ts). */
function stream<Req, Res>(client: Client, method: MethodDefinition<Req, Res>): ClientDuplexStream<Req, Res> {
  return client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
}

function finishedEntries(keys: string[], valueBytes: number, runIds: Map<string, number>): loom.v1.ITaskFinished[] {
  return keys.map((key) => ({ key, nbytes: valueBytes, codec: pb.Codec.CODEC_V8, durationMs: 1, value: new Uint8Array(valueBytes).fill(key.charCodeAt(1)), hasValue: true, runId: runIds.get(key) ?? 0 }));
}

/** The largest value size whose worker report of all `keys` still fits the limit. */
function valueBytesFor(keys: string[], limit: number): number {
  let low = 0;
  let high = limit;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const size = pb.WorkerToScheduler.encode({ finished: finishedEntries(keys, mid, new Map(keys.map((key) => [key, 1_000_000]))) }).finish().length;
    if (size <= limit - 64) low = mid;
    else high = mid - 1;
  }
  return low;
}

function clientMessageBytes(keys: string[], valueBytes: number): number {
  const updates = keys.map((key) => ({ key, state: pb.KeyUpdate.State.MEMORY, nbytes: valueBytes, codec: pb.Codec.CODEC_V8, value: new Uint8Array(valueBytes), hasValue: true, holders: [ADDRESS] }));
  return pb.SchedulerToClient.encode({ updates }).finish().length;
}

/**
 * A scheduler with a small limit, a raw worker stream and a raw client session: the client wants `keys`, the
 * worker reports them all finished in one message with values of `valueBytes`. Resolves with the client's
 * updates once every key has one, after checking that the client's session is still usable.
 */
async function burst(t: TestContext, keys: string[], valueBytes: number): Promise<Map<string, loom.v1.IKeyUpdate>> {
  const scheduler = await startScheduler({ host: '127.0.0.1', port: 0, maxMessageBytes: LIMIT, inlineValueBytes: LIMIT, validate: true });
  const grpc = new Client(scheduler.address, credentials.createInsecure(), grpcOptions(LIMIT));
  t.after(async () => {
    grpc.close();
    await scheduler.close();
  });

  const worker = stream(grpc, schedulerService.workerSession);
  worker.on('error', () => undefined);
  const runIds = new Map<string, number>();
  let welcomeLimit: number | undefined;
  const computed = new Promise<void>((resolve) => {
    worker.on('data', (message: loom.v1.SchedulerToWorker) => {
      if (message.welcome) welcomeLimit = message.welcome.maxMessageBytes ?? 0;
      for (const compute of message.compute) runIds.set(compute.key ?? '', compute.runId ?? 0);
      if (runIds.size === keys.length) resolve();
    });
  });
  worker.write({ hello: { name: 'fake', address: ADDRESS, nthreads: keys.length, memoryLimit: 1e9 } });

  const session = stream(grpc, schedulerService.clientSession);
  const updates = new Map<string, loom.v1.IKeyUpdate>();
  const acks: string[] = [];
  let lost: Error | undefined;
  let onProgress = () => undefined as void;
  session.on('error', (error: Error) => {
    lost = error;
    onProgress();
  });
  session.on('data', (message: loom.v1.SchedulerToClient) => {
    for (const update of message.updates) updates.set(update.key ?? '', update);
    for (const ack of message.graphAcks) acks.push(ack.graphId ?? '');
    onProgress();
  });
  const until = (done: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      onProgress = () => (lost ? reject(lost) : done() ? resolve() : undefined);
      onProgress();
    });
  session.write({ hello: { name: 'burst' } });
  const functions = [{ id: 'fn', name: 'fn', source: 'x => x' }];
  session.write({ submit: { graphId: 'burst', tasks: keys.map((key, order) => ({ key, functionId: 'fn', order })), functions, wantedKeys: keys, final: true } });
  await computed;
  assert.equal(welcomeLimit, LIMIT, 'the welcome tells the worker the limit its reports must stay under');

  worker.write({ finished: finishedEntries(keys, valueBytes, runIds) });
  await until(() => keys.every((key) => updates.has(key)));
  session.write({ submit: { graphId: 'after', tasks: [{ key: 'later', functionId: 'fn' }], functions, wantedKeys: ['later'], final: true } });
  await until(() => acks.includes('after'));
  session.end();
  worker.end();
  return updates;
}

test('inline results over the message limit in one turn reach the client in several messages, and the session survives', async (t) => {
  const keys = ['v0', 'v1', 'v2', 'v3'];
  const valueBytes = valueBytesFor(keys, LIMIT);
  assert.ok(clientMessageBytes(keys, valueBytes) > LIMIT, 'the updates must not fit one message');
  const updates = await burst(t, keys, valueBytes);
  for (const key of keys) {
    const value = updates.get(key)!.value ?? new Uint8Array(0);
    assert.ok(value.length === valueBytes && value.every((byte) => byte === key.charCodeAt(1)), `value of ${key}`);
  }
});

test('a value that fits the worker report but not a client update reaches the client as a location to fetch', async (t) => {
  const keys = ['v9'];
  const valueBytes = valueBytesFor(keys, LIMIT);
  assert.ok(clientMessageBytes(keys, valueBytes) > LIMIT, 'the update must not fit one message');
  const update = (await burst(t, keys, valueBytes)).get('v9')!;
  assert.equal(update.state, pb.KeyUpdate.State.MEMORY);
  assert.deepEqual([update.hasValue, update.value?.length ?? 0, update.nbytes, update.holders], [false, 0, valueBytes, [ADDRESS]]);
});
