// The worker's data plane: the `Worker.GetData` service, which streams held results to peers and clients in
// chunks no larger than `chunkBytes`, honouring gRPC flow control so a slow reader never balloons our memory.
// Chunks are sent from the stored bytes without copying them (chunk-writer.ts).
import { hostname } from 'node:os';
import { Server, status, type ServerWritableStream } from '@grpc/grpc-js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  checkToken,
  codecToWire,
  grpcServerOptions,
  serverCredentials,
  workerService,
  type Logger,
  type TlsFiles,
  type loom,
} from '@loom/protocol';
import { ChunkWriter } from './chunk-writer.js';
import type { DataStore } from './data-store.js';
import type { TransfersInFlight, WorkerActivity } from './worker-activity.js';

export interface DataServerOptions {
  host: string;
  port: number;
  token: string | undefined;
  tls: TlsFiles | undefined;
  chunkBytes: number;
  maxMessageBytes: number | undefined;
  store: DataStore;
  logger: Logger;
  /** Told of the bytes each GetData call sends. */
  activity?: WorkerActivity;
  /** How many GetData calls may stream at once right now (the worker lowers it while paused); default no limit. */
  streamLimit?: () => number;
}

export interface DataServer {
  /** host:port that peers should dial. */
  readonly address: string;
  /** Lets calls in flight finish for up to `graceMs`, then cuts the rest off. */
  close(graceMs: number): Promise<void>;
  /** Cuts every call off at once. */
  forceClose(): void;
  /** The stream limit may have risen: lets waiting calls go. */
  wakeWaiting(): void;
}

type GetDataCall = ServerWritableStream<loom.v1.IGetDataRequest, loom.v1.IDataChunk>;

export async function startDataServer(options: DataServerOptions): Promise<DataServer> {
  const server = new Server(grpcServerOptions(options.maxMessageBytes));
  const gate = new StreamGate(options.streamLimit ?? (() => Infinity));
  server.addService(workerService, {
    getData: (call: GetDataCall) => {
      void gate
        .run(() => serveGetData(call, options))
        .catch((error: unknown) => {
          options.logger.warn({ err: error, peer: call.getPeer() }, 'GetData failed');
          call.emit('error', { code: status.INTERNAL, details: `GetData failed: ${(error as Error).message}` });
        });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${bindHost(options.host)}:${options.port}`, serverCredentials(options.tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  const address = `${bindHost(advertisedHost(options.host))}:${port}`;
  options.logger.debug({ address }, 'data server listening');
  return {
    address,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    forceClose: () => server.forceShutdown(),
    wakeWaiting: () => gate.wake(),
  };
}

/** Admits at most `limit()` calls at once; the rest wait in arrival order (a paused worker serves one at a time). */
class StreamGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: () => number) {}

  async run(serve: () => Promise<void>): Promise<void> {
    // A woken call was counted active by wake(), so no later arrival can slip in between.
    if (this.active >= this.limit()) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      await serve();
    } finally {
      this.active -= 1;
      this.wake();
    }
  }

  wake(): void {
    while (this.waiting.length > 0 && this.active < this.limit()) {
      this.active += 1;
      (this.waiting.shift() as () => void)();
    }
  }
}

async function serveGetData(call: GetDataCall, options: DataServerOptions): Promise<void> {
  const denied = checkToken(call, options.token);
  if (denied) {
    options.logger.warn({ peer: call.getPeer() }, `GetData refused: ${denied.details}`);
    call.emit('error', denied);
    return;
  }
  // Chunks skip grpc-js's size check on the way out; readers accept what this process would (same options).
  const chunkBytes = Math.max(1, Math.min(options.chunkBytes, (options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) - 1024));
  // Two chunks queued keep HTTP/2 busy while the next is read (from disk, for a spilled value).
  const writer = ChunkWriter.for(call, 2 * chunkBytes);
  const gauges = options.activity?.inFlight;
  if (gauges) gauges.transferOutgoingCalls += 1;
  try {
    await sendValues(call, options, writer, chunkBytes, gauges);
  } finally {
    if (gauges) gauges.transferOutgoingCalls -= 1;
  }
}

/** Streams each key asked for, in order; ends the stream unless the reader cancelled it. */
async function sendValues(call: GetDataCall, options: DataServerOptions, writer: ChunkWriter, chunkBytes: number, gauges: TransfersInFlight | undefined): Promise<void> {
  for (const key of call.request.keys ?? []) {
    if (writer.cancelled) return;
    const value = await options.store.stream(key, chunkBytes);
    if (!value) {
      await writer.write({ key, missing: true });
      continue;
    }
    const codec = codecToWire(value.codec);
    const totalBytes = value.totalBytes;
    let offset = 0;
    if (gauges) gauges.transferOutgoingBytes += totalBytes;
    try {
      // A zero-length value still gets one (empty) chunk, so the reader learns its codec and that it is complete.
      for await (const data of value.chunks) {
        if (writer.cancelled) return;
        await writer.write({ key, codec, totalBytes, offset, data });
        offset += data.byteLength;
        if (gauges) gauges.transferOutgoingBytes -= data.byteLength;
        options.activity?.sent(data.byteLength);
      }
    } catch {
      // The spill file turned out corrupt mid-way (the store reported the key lost): the reader drops its partial
      // value on `missing`, and the last chunk of a corrupt file is never sent, so no wrong value completes.
      await writer.write({ key, missing: true });
    } finally {
      if (gauges) gauges.transferOutgoingBytes -= totalBytes - offset;
    }
  }
  writer.end();
}

function bindHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** A wildcard bind is reachable under the machine's name; peers cannot dial 0.0.0.0. */
function advertisedHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? hostname() : host;
}
