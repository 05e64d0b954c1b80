// Puts GetData's DataChunk messages on the wire. grpc-js would copy each chunk's data twice (protobuf encode,
// then a fresh buffer for the gRPC frame) and allocate both; instead each message is written straight onto the
// call's HTTP/2 stream as two pieces, a small head (gRPC frame prefix, the other fields, the data field's tag
// and length) and the data itself, a view of the stored value that HTTP/2 sends from where it lies. The bytes on
// the wire are the same gRPC messages (a DataChunk with `data` as its last field, which protobuf allows).
import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import { pb, workerService, type loom } from '@loom/protocol';

type GetDataCall = ServerWritableStream<loom.v1.IGetDataRequest, loom.v1.IDataChunk>;

/** The part of Node's ServerHttp2Stream this writer uses. */
interface Http2Sink {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableLength: number;
  readonly writableNeedDrain: boolean;
  write(chunk: Uint8Array): boolean;
  on(event: 'drain' | 'close' | 'error', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** Data smaller than this is encoded whole: the head/data split saves less than it costs. */
const SPLIT_MIN_DATA_BYTES = 16 * 1024;
/** Field 5 (`data`), wire type 2 (length-delimited). */
const DATA_FIELD_TAG = (5 << 3) | 2;

export class ChunkWriter {
  private constructor(
    private readonly call: GetDataCall,
    /** The HTTP/2 stream under the call, once its response headers are out; undefined: write through grpc-js. */
    private readonly sink: Http2Sink | undefined,
    /** Queue at most about this much before waiting for HTTP/2 to take it (flow control, a slow reader). */
    private readonly maxQueuedBytes: number,
  ) {}

  /**
   * A writer for `call`. grpc-js (1.14) keeps the HTTP/2 stream of a call without interceptors on
   * `call.call.stream`; that is not public API, so it is used only when found there, with its response headers
   * sent by grpc-js itself. Otherwise (another grpc-js, interceptors) every message goes through `call.write`.
   * Status and trailers are grpc-js's in both cases (`end`, or an 'error' on the call).
   */
  static for(call: GetDataCall, maxQueuedBytes: number): ChunkWriter {
    const base = (call as unknown as { call?: { stream?: unknown; handler?: { path?: unknown } } }).call;
    const stream = base?.stream;
    if (base?.handler?.path !== workerService.getData.path || !isHttp2Sink(stream)) return new ChunkWriter(call, undefined, maxQueuedBytes);
    call.sendMetadata(new Metadata());
    if (!stream.headersSent) return new ChunkWriter(call, undefined, maxQueuedBytes);
    // grpc-js listens for one 'error' only; a stream reset mid-write may report more. 'close' ends the wait.
    stream.on('error', () => undefined);
    return new ChunkWriter(call, stream, maxQueuedBytes);
  }

  /** Whether messages go straight onto the HTTP/2 stream (for tests). */
  get direct(): boolean {
    return this.sink !== undefined;
  }

  get cancelled(): boolean {
    return this.call.cancelled || (this.sink?.destroyed ?? false);
  }

  /** Queues one message; resolves once more may be queued (at once, unless the queue is full). */
  async write(chunk: loom.v1.IDataChunk): Promise<void> {
    const { sink } = this;
    if (!sink) {
      if (!this.call.write(chunk)) await waitFor(this.call, ['drain', 'cancelled', 'close']);
      return;
    }
    const data = chunk.data;
    if (data && data.byteLength >= SPLIT_MIN_DATA_BYTES) {
      sink.write(encodeHead(chunk, data.byteLength));
      sink.write(data);
    } else {
      sink.write(frame(pb.DataChunk.encode(chunk).finish()));
    }
    // 'drain' comes once the queue has emptied, and only after a write was refused (past the stream's own mark).
    if (sink.writableNeedDrain && sink.writableLength >= this.maxQueuedBytes && !this.cancelled) await waitFor(sink, ['drain', 'close']);
  }

  /** Ends the call with status OK (after everything queued). */
  end(): void {
    this.call.end();
  }
}

function isHttp2Sink(value: unknown): value is Http2Sink {
  const stream = value as Partial<Record<keyof Http2Sink | 'respond' | 'sendTrailers', unknown>> | undefined;
  return (
    typeof stream === 'object' &&
    stream !== null &&
    typeof stream.write === 'function' &&
    typeof stream.respond === 'function' &&
    typeof stream.sendTrailers === 'function' &&
    typeof stream.writableLength === 'number' &&
    typeof stream.writableNeedDrain === 'boolean'
  );
}

/** A gRPC length-prefixed message (uncompressed). */
function frame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.byteLength);
  framed[0] = 0;
  framed.writeUInt32BE(message.byteLength, 1);
  framed.set(message, 5);
  return framed;
}

/** The gRPC prefix and every byte of the encoded DataChunk before its data: the fields, then data's tag and length. */
export function encodeHead(chunk: loom.v1.IDataChunk, dataBytes: number): Buffer {
  const fields = pb.DataChunk.encode({ ...chunk, data: null }).finish();
  const head = Buffer.allocUnsafe(5 + fields.byteLength + 1 + 5);
  head.set(fields, 5);
  let offset = 5 + fields.byteLength;
  head[offset++] = DATA_FIELD_TAG;
  for (let length = dataBytes; ; length = Math.floor(length / 128)) {
    if (length < 128) {
      head[offset++] = length;
      break;
    }
    head[offset++] = (length % 128) | 0x80;
  }
  head[0] = 0;
  head.writeUInt32BE(offset - 5 + dataBytes, 1);
  return head.subarray(0, offset);
}

/** Resolves on the first of `events` (a cancelled call never drains, so callers always include the way out). */
function waitFor(emitter: Pick<Http2Sink, 'on' | 'off'>, events: readonly string[]): Promise<void> {
  const target = emitter as unknown as { on(event: string, listener: () => void): unknown; off(event: string, listener: () => void): unknown };
  return new Promise((resolve) => {
    const done = (): void => {
      for (const event of events) target.off(event, done);
      resolve();
    };
    for (const event of events) target.on(event, done);
  });
}
