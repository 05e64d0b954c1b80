// How task results and arguments become bytes. Values are stored, spilled and sent between processes in
// encoded form, so the byte length *is* the measured size. Plain JavaScript values use V8's structured-clone
// serializer (typed arrays, Map, Set, Date, BigInt and cycles survive; functions and class identity do not).
import { deserialize, serialize } from 'node:v8';
import { LoomError } from './errors.js';
import { pb, type loom } from './wire.js';

export type CodecName = 'v8' | 'arrow-ipc';

export interface EncodedValue {
  codec: CodecName;
  bytes: Uint8Array;
}

export function encodeValue(value: unknown, what = 'value'): EncodedValue {
  try {
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
    case 'arrow-ipc':
      throw new LoomError('SERIALIZATION_FAILED', 'Arrow IPC values need the Arrow codec, which this build does not include');
  }
}

export function codecToWire(codec: CodecName): loom.v1.Codec {
  return codec === 'v8' ? pb.Codec.CODEC_V8 : pb.Codec.CODEC_ARROW_IPC;
}

export function codecFromWire(codec: loom.v1.Codec | null | undefined): CodecName {
  switch (codec) {
    case pb.Codec.CODEC_ARROW_IPC:
      return 'arrow-ipc';
    case pb.Codec.CODEC_V8:
      return 'v8';
    default:
      throw new LoomError('SERIALIZATION_FAILED', `unknown value codec ${String(codec)}`);
  }
}
