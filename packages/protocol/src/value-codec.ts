// How task results and arguments become bytes. Values are stored, spilled and sent between processes in
// encoded form, so the byte length *is* the measured size. Small values that JSON represents exactly use JSON
// (native and 4-7x cheaper than V8's serializer for the scalars most tasks pass around); everything else uses
// V8's structured-clone serializer (typed arrays, Map, Set, Date, BigInt and cycles survive; functions and
// class identity do not). Apache Arrow tables use the Arrow IPC stream format (columnar, zero-parse on decode);
// a table of another apache-arrow copy is first rebuilt as one of Loom's (arrow-input.ts).
import { deserialize, serialize } from 'node:v8';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { asLoomTable } from './arrow-input.js';
import { LoomError } from './errors.js';
import { isSmallJsonValue } from './json-safe.js';
import { pb, type loom } from './wire.js';

export type CodecName = 'v8' | 'json' | 'arrow-ipc';

export interface EncodedValue {
  codec: CodecName;
  bytes: Uint8Array;
}

export function encodeValue(value: unknown, what = 'value'): EncodedValue {
  // Before the JSON/V8 checks: a Table is a class instance V8 would flatten into an unusable plain object. An
  // unreadable one fails here with its own reason.
  const table = asLoomTable(value, what);
  try {
    if (table !== undefined) return { codec: 'arrow-ipc', bytes: tableToIPC(table, 'stream') };
    if (isSmallJsonValue(value)) return { codec: 'json', bytes: Buffer.from(JSON.stringify(value)) };
    return { codec: 'v8', bytes: serialize(value) };
  } catch (error) {
    throw new LoomError(
      'SERIALIZATION_FAILED',
      `cannot serialize ${what}: ${(error as Error).message}. Loom moves plain data between processes ` +
        `(numbers, strings, arrays, plain objects, typed arrays, Map, Set, Date); return data, not functions or class instances.`,
    );
  }
}

export function decodeValue(encoded: EncodedValue): unknown {
  switch (encoded.codec) {
    case 'v8':
      return deserialize(encoded.bytes);
    case 'json':
      return JSON.parse(asBuffer(encoded.bytes).toString('utf8'));
    case 'arrow-ipc':
      return tableFromIPC(encoded.bytes);
  }
}

/** A Buffer over the same memory (bytes that crossed a thread boundary arrive as plain Uint8Array). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function codecToWire(codec: CodecName): loom.v1.Codec {
  switch (codec) {
    case 'v8':
      return pb.Codec.CODEC_V8;
    case 'json':
      return pb.Codec.CODEC_JSON;
    case 'arrow-ipc':
      return pb.Codec.CODEC_ARROW_IPC;
  }
}

export function codecFromWire(codec: loom.v1.Codec | null | undefined): CodecName {
  switch (codec) {
    case pb.Codec.CODEC_ARROW_IPC:
      return 'arrow-ipc';
    case pb.Codec.CODEC_V8:
      return 'v8';
    case pb.Codec.CODEC_JSON:
      return 'json';
    default:
      throw new LoomError('SERIALIZATION_FAILED', `unknown value codec ${String(codec)}`);
  }
}
