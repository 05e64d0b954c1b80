// A peer that accepts a GetData call and then never answers (a frozen process keeps its socket open) must not
// hold a task forever: the fetch is abandoned after a stretch without data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { grpcOptions, grpcServerOptions, workerService } from '@loom/protocol';
import { getData } from '../src/peer-fetch.js';

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
