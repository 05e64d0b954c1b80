// The most a gRPC stream can carry between two Node processes here: node:http2 (what grpc-js runs on) sending a
// 64 MiB value in 1 MiB writes, the receiver copying every frame into a fresh 64 MiB buffer as a worker does,
// both with a worker's allocator settings. No gRPC framing, protobuf, scheduler or task: Loom's transfer rows
// are read against this, and the plain TCP ceiling says what the kernel allows beneath it.
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { grpcOptions } from '@loom/protocol';
import { withWorkerMallocSettings } from '@loom/worker/malloc-env';

const VALUE_BYTES = 64 * 2 ** 20;
const WRITE_BYTES = 2 ** 20;
/** Loom's receive window (grpc-options.ts; grpc-js applies it to the stream and the connection). */
const WINDOW_BYTES = grpcOptions()['grpc-node.flow_control_window'] as number;

/** Median MB/s over `transfers` values, each received into fresh memory. */
export async function http2Ceiling(transfers = 9): Promise<number> {
  const env = withWorkerMallocSettings(process.env);
  const sender = fork(fileURLToPath(import.meta.url), ['--h2-sender'], { env });
  try {
    const port = await new Promise<number>((resolve) => sender.once('message', (message) => resolve(message as number)));
    const receiverArgs = ['--h2-receiver', String(port), String(transfers)];
    const receiver = fork(fileURLToPath(import.meta.url), receiverArgs, { env });
    return await new Promise<number>((resolve, reject) => {
      receiver.once('message', (message) => resolve(message as number));
      receiver.once('exit', (code) => reject(new Error(`the HTTP/2 receiver exited with ${String(code)}`)));
    });
  } finally {
    sender.kill();
  }
}

function runSender(): void {
  const value = Buffer.alloc(VALUE_BYTES, 7);
  const server = http2.createServer({ maxSessionMemory: 256 });
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    let offset = 0;
    const pump = (): void => {
      while (offset < VALUE_BYTES) {
        const more = stream.write(value.subarray(offset, offset + WRITE_BYTES));
        offset += WRITE_BYTES;
        if (!more && stream.writableLength >= 2 * WRITE_BYTES) return void stream.once('drain', pump);
      }
      stream.end();
    };
    pump();
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
}

async function runReceiver(port: number, transfers: number): Promise<void> {
  const session = http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: WINDOW_BYTES } });
  await new Promise((resolve) => session.once('connect', resolve));
  session.setLocalWindowSize(WINDOW_BYTES);
  const rates: number[] = [];
  for (let index = 0; index < transfers; index++) {
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const value = new Uint8Array(VALUE_BYTES);
      let received = 0;
      const stream = session.request({ ':path': '/' });
      stream.on('data', (frame: Buffer) => {
        value.set(frame, received);
        received += frame.byteLength;
      });
      stream.on('end', () => (received === VALUE_BYTES ? resolve() : reject(new Error(`received ${received} bytes`))));
      stream.on('error', reject);
      stream.end();
    });
    rates.push(VALUE_BYTES / 1e6 / ((performance.now() - started) / 1000));
  }
  session.close();
  rates.sort((a, b) => a - b);
  process.send?.(rates[Math.floor(rates.length / 2)]);
}

if (process.argv[2] === '--h2-sender') runSender();
if (process.argv[2] === '--h2-receiver') void runReceiver(Number(process.argv[3]), Number(process.argv[4]));
