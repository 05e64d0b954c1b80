// A cluster with a token: clients and raw gRPC calls without it are refused with UNAUTHENTICATED; malformed
// requests (unknown dependency, cycle, oversized message) get clear errors while the cluster keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Client, delayed, ref, task } from '@loom/client';
import { callMetadata, grpcOptions, isLoomError, schedulerService, workerService } from '@loom/protocol';
import { credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { useCluster } from './cluster-fixture.js';

const TOKEN = `secret-${process.pid}-${Date.now()}`;
const fixture = useCluster({ workers: 2, token: TOKEN });

const inc = delayed((x: number) => x + 1);

test('the right token works', async () => {
  assert.equal(await inc(1).compute(), 2);
});

test('the token is on no command line (ps shows those to every user)', () => {
  const withToken = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(TOKEN);
    } catch {
      return false; // gone meanwhile, or not ours to read
    }
  });
  assert.ok(fixture.cluster.workers.length === 2);
  assert.deepEqual(withToken, []);
});

test('a client without the cluster token is refused with UNAUTHENTICATED', async () => {
  await assert.rejects(Client.connect(fixture.cluster.address, { timeoutMs: 5000 }), (error: unknown) => isLoomError(error, 'UNAUTHENTICATED'));
  await assert.rejects(Client.connect(fixture.cluster.address, { token: 'wrong', timeoutMs: 5000 }), (error: unknown) =>
    isLoomError(error, 'UNAUTHENTICATED'));
});

function rawSchedulerClient(token: string | undefined, maxMessageBytes?: number) {
  const Constructor = makeGenericClientConstructor(schedulerService, 'Scheduler');
  const raw = new Constructor(fixture.cluster.address, credentials.createInsecure(), grpcOptions(maxMessageBytes ?? 256 * 2 ** 20));
  return {
    raw,
    unary<Res>(method: 'info' | 'submitGraph', request: object): Promise<Res> {
      return new Promise((resolve, reject) => {
        (raw as unknown as Record<string, Function>)[method]!(request, callMetadata(token), (error: ServiceError | null, reply: Res) =>
          error ? reject(error) : resolve(reply));
      });
    },
  };
}

test('every RPC without the token is refused: scheduler Info and SubmitGraph, worker GetData', async () => {
  const anonymous = rawSchedulerClient(undefined);
  await assert.rejects(anonymous.unary('info', {}), (error: ServiceError) => error.code === status.UNAUTHENTICATED);
  await assert.rejects(anonymous.unary('submitGraph', { clientId: 'x', graphId: 'g', final: true }), (error: ServiceError) =>
    error.code === status.UNAUTHENTICATED);
  anonymous.raw.close();

  const info = await fixture.client.schedulerInfo();
  const WorkerClient = makeGenericClientConstructor(workerService, 'Worker');
  const peer = new WorkerClient(info.workers[0]!.address, credentials.createInsecure());
  const stream = (peer as unknown as { getData(request: object, metadata: unknown): NodeJS.EventEmitter }).getData({ keys: ['anything'] }, callMetadata(undefined));
  const code = await new Promise<number>((resolve) => {
    stream.on('error', (error: ServiceError) => resolve(error.code));
    stream.on('data', () => undefined);
  });
  assert.equal(code, status.UNAUTHENTICATED);
  peer.close();
});

test('a graph with an unknown dependency key is refused with a clear error', async () => {
  const { client } = fixture;
  await assert.rejects(client.get({ a: task((x: number) => x, ref('no-such-key')) }, ['a']), (error: unknown) =>
    isLoomError(error, 'UNKNOWN_DEPENDENCY') && /no-such-key/.test(error.message));
  assert.equal(await inc(2).compute(), 3, 'still serving');
});

test('a cyclic graph is refused, naming the cycle', async () => {
  const { client } = fixture;
  const same = (x: number) => x;
  await assert.rejects(
    client.get({ p: task(same, ref('q')), q: task(same, ref('r')), r: task(same, ref('p')) }, ['p']),
    (error: unknown) => isLoomError(error, 'CYCLIC_GRAPH') && /p/.test(error.message) && /->/.test(error.message),
  );
  assert.equal(await inc(3).compute(), 4, 'still serving');
});

test('an oversized message is refused by the scheduler while it keeps serving others', async () => {
  const tokenClient = rawSchedulerClient(TOKEN);
  const huge = Buffer.alloc(80 * 2 ** 20, 1); // over the 64 MiB default limit
  await assert.rejects(
    tokenClient.unary('submitGraph', { clientId: 'x', graphId: 'g', final: true, tasks: [{ key: 'big', functionId: 'f', args: huge }] }),
    (error: ServiceError) => error.code === status.RESOURCE_EXHAUSTED && /larger than max/i.test(error.details),
  );
  tokenClient.raw.close();
  assert.equal(await inc(4).compute(), 5, 'still serving');
});

test('the client refuses a task argument too large to send, before sending it', async () => {
  const sum = delayed((values: Float64Array) => values.length);
  await assert.rejects(sum(new Float64Array(10 * 2 ** 20)).compute(), (error: unknown) =>
    isLoomError(error, 'MESSAGE_TOO_LARGE') && /MiB/.test(error.message));
  assert.equal(await inc(5).compute(), 6, 'still serving');
});
