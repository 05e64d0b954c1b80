// A peer that accepts a GetData call and then never answers (a frozen process keeps its socket open) must not
// hold a task forever: the fetch is abandoned after a stretch without data. While it waits, it shows in the
// worker's in-flight transfer gauges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { grpcOptions, grpcServerOptions, silentLogger, workerService } from '@loom/protocol';
import { getData, PeerFetcher } from '../src/peer-fetch.js';
import { WorkerActivity } from '../src/worker-activity.js';
import { until } from './helpers.js';

test('a GetData call that receives nothing is abandoned after the idle timeout', async () => {
  const server = new Server(grpcServerOptions());
  server.addService(workerService, { getData: () => undefined }); // accepts, never writes, never ends
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), grpcOptions());
  try {
    const started = Date.now();
    const delivered: string[] = [];
    await assert.rejects(
      getData(client, ['k'], undefined, (key) => delivered.push(key), 300),
      /no data from the peer for 300 ms/,
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 5_000, `gave up after ${waited} ms`);
    assert.deepEqual(delivered, []);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test('a fetch waiting on a peer shows in the in-flight gauges until it ends', async () => {
  const server = new Server(grpcServerOptions());
  server.addService(workerService, { getData: () => undefined }); // accepts, never writes, never ends
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const activity = new WorkerActivity();
  const fetcher = new PeerFetcher({ selfAddress: '127.0.0.1:1', token: undefined, tls: undefined, maxMessageBytes: undefined, logger: silentLogger(), activity });
  try {
    const outcomes = [fetcher.fetch('a', [`127.0.0.1:${port}`], 3_000), fetcher.fetch('b', [`127.0.0.1:${port}`], 500)];
    // The same key asked for again joins the fetch under way: counted once.
    outcomes.push(fetcher.fetch('a', [`127.0.0.1:${port}`], 3_000));
    await until(() => activity.inFlight.transferIncomingCalls === 1, 'the call to the peer');
    assert.deepEqual(activity.inFlight, { transferIncomingCalls: 1, transferIncomingBytes: 3_500, transferOutgoingCalls: 0, transferOutgoingBytes: 0 }, 'one call to the peer, for both keys');
    fetcher.close();
    assert.ok((await Promise.all(outcomes)).every((outcome) => !outcome.ok));
    await until(() => activity.inFlight.transferIncomingCalls === 0, 'the call cancelled');
    assert.deepEqual(activity.inFlight, { transferIncomingCalls: 0, transferIncomingBytes: 0, transferOutgoingCalls: 0, transferOutgoingBytes: 0 });
  } finally {
    fetcher.close();
    server.forceShutdown();
  }
});
