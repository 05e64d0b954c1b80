// GetData chunks written straight onto the HTTP/2 stream: a grpc-js client reads exactly the DataChunks it would
// have got from grpc-js's own encoder, through varint boundaries, flow control and a slow reader; status and
// errors still come from grpc-js. The installed grpc-js must expose the stream where ChunkWriter looks for it
// (an upgrade that moved it would silently put the copies back; this test says so).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Server, ServerCredentials, credentials, status, type ClientReadableStream, type ServerWritableStream } from '@grpc/grpc-js';
import { grpcOptions, grpcServerOptions, pb, workerService, type loom } from '@loom/protocol';
import { ChunkWriter, encodeHead } from '../src/chunk-writer.js';

type Plan = (writer: ChunkWriter, call: ServerWritableStream<loom.v1.IGetDataRequest, loom.v1.IDataChunk>) => Promise<void>;

let server: Server;
let address: string;
const plans = new Map<string, Plan>();
const directSeen: boolean[] = [];

before(async () => {
  server = new Server(grpcServerOptions());
  server.addService(workerService, {
    getData: (call: ServerWritableStream<loom.v1.IGetDataRequest, loom.v1.IDataChunk>) => {
      const writer = ChunkWriter.for(call, 1 << 20);
      directSeen.push(writer.direct);
      const plan = plans.get(call.request.keys?.[0] ?? '') as Plan;
      plan(writer, call).then(
        () => writer.end(),
        (error: unknown) => call.emit('error', { code: status.INTERNAL, details: (error as Error).message }),
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  address = `127.0.0.1:${port}`;
});

after(() => server.forceShutdown());

function read(key: string, pauseMs = 0): Promise<loom.v1.DataChunk[]> {
  const client = new Client(address, credentials.createInsecure(), grpcOptions());
  const method = workerService.getData;
  return new Promise<loom.v1.DataChunk[]>((resolve, reject) => {
    const call: ClientReadableStream<loom.v1.DataChunk> = client.makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize as (bytes: Buffer) => loom.v1.DataChunk,
      { keys: [key] },
    );
    const chunks: loom.v1.DataChunk[] = [];
    call.on('data', (chunk: loom.v1.DataChunk) => {
      chunks.push(chunk);
      if (pauseMs > 0) {
        call.pause();
        setTimeout(() => call.resume(), pauseMs);
      }
    });
    call.on('error', reject);
    call.on('end', () => resolve(chunks));
  }).finally(() => client.close());
}

function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

test('the installed grpc-js lets chunks go straight onto the HTTP/2 stream', async () => {
  plans.set('probe', async (writer) => writer.write({ key: 'probe', missing: true }));
  const chunks = await read('probe');
  assert.equal(chunks[0]?.missing, true);
  assert.equal(directSeen.at(-1), true, 'grpc-js no longer exposes call.call.stream: GetData copies every chunk twice again');
});

test('every field and byte arrives, for data sizes around each varint boundary of the length', async () => {
  const sizes = [0, 1, 127, 128, 16_383, 16_384, 16_385, 65_536, 2_097_151, 2_097_152, 3_000_001];
  plans.set('sizes', async (writer) => {
    for (const [index, size] of sizes.entries()) {
      await writer.write({ key: 'sizes', codec: pb.Codec.CODEC_ARROW_IPC, totalBytes: size * 2 + 0.5, offset: index, data: pattern(size, index) });
    }
    await writer.write({ key: 'gone', missing: true });
  });
  const chunks = await read('sizes');
  assert.equal(chunks.length, sizes.length + 1);
  for (const [index, size] of sizes.entries()) {
    const chunk = chunks[index] as loom.v1.DataChunk;
    assert.equal(chunk.key, 'sizes');
    assert.equal(chunk.codec, pb.Codec.CODEC_ARROW_IPC);
    assert.equal(chunk.totalBytes, size * 2 + 0.5);
    assert.equal(chunk.offset, index);
    assert.equal(chunk.missing, false);
    assert.ok(Buffer.from(chunk.data).equals(pattern(size, index)), `data of ${size} bytes`);
  }
  assert.deepEqual([chunks.at(-1)?.key, chunks.at(-1)?.missing], ['gone', true]);
});

test('a slow reader holds the writer back instead of letting it queue everything', async () => {
  const chunk = pattern(256 * 1024, 7);
  let maxQueued = 0;
  plans.set('slow', async (writer, call) => {
    const stream = (call as unknown as { call: { stream: { writableLength: number } } }).call.stream;
    for (let i = 0; i < 200; i++) {
      await writer.write({ key: 'slow', totalBytes: 200 * chunk.byteLength, offset: i * chunk.byteLength, data: chunk });
      maxQueued = Math.max(maxQueued, stream.writableLength);
    }
  });
  // 50 MB through a 16 MiB flow-control window, the reader pausing after every message at first.
  const chunks = await read('slow', 2);
  assert.equal(chunks.length, 200);
  assert.ok(chunks.every((c) => Buffer.from(c.data).equals(chunk)));
  assert.ok(maxQueued <= (1 << 20) + chunk.byteLength + 64, `queued ${maxQueued} bytes`);
});

test('an error after some chunks reaches the reader as the call status', async () => {
  plans.set('fails', async (writer) => {
    await writer.write({ key: 'fails', totalBytes: 1 << 20, offset: 0, data: pattern(1 << 19, 1) });
    await sleep(10);
    throw new Error('disk on fire');
  });
  await assert.rejects(read('fails'), (error: { code?: number; details?: string }) => error.code === status.INTERNAL && error.details === 'disk on fire');
});

test('the head is the encoded DataChunk up to its data', () => {
  const data = pattern(300, 3);
  const chunk = { key: 'k', codec: pb.Codec.CODEC_V8, totalBytes: 300, offset: 0, data };
  const head = encodeHead(chunk, data.byteLength);
  const whole = pb.DataChunk.encode(chunk).finish();
  assert.equal(head[0], 0, 'not compressed');
  assert.equal(head.readUInt32BE(1), whole.byteLength);
  assert.ok(Buffer.concat([head.subarray(5), data]).equals(Buffer.from(whole)), 'protobufjs writes data last too, so the bytes match exactly');
});
