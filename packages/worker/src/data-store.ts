// Task results this worker holds, keyed by task key and kept *encoded* ({ codec, bytes }): the byte length is the
// measured size reported to the scheduler, and peers receive the bytes without re-serialising them.
// `get` is async because a value may have been spilled to disk (spill-store.ts); MemoryStore never spills.
import type { CodecName, EncodedValue } from '@loom/protocol';

/** A held value as GetData serves it: its size up front, then its bytes in chunks (from memory or from disk). */
export interface ValueStream {
  codec: CodecName;
  totalBytes: number;
  /** Throws if the bytes turn out to be unusable (a corrupt spill file); the key is then reported lost. */
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

export interface DataStore {
  /** Whether the key is held at all (in memory or on disk). Cheap and synchronous. */
  has(key: string): boolean;
  /** Whether the key is held in memory (so using it loads nothing). Cheap and synchronous. */
  inMemory(key: string): boolean;
  /** The value, read back from disk if it was spilled; undefined if not held or unreadable (then reported lost). */
  get(key: string): Promise<EncodedValue | undefined>;
  /** The value in chunks of at most `chunkBytes`, without loading a spilled file whole when avoidable. */
  stream(key: string, chunkBytes: number): Promise<ValueStream | undefined>;
  /** Replaces any previous value of the key. */
  put(key: string, value: EncodedValue): void;
  /** Returns whether the key was held. */
  delete(key: string): boolean;
  /** Bytes of results held in memory. */
  readonly managedBytes: number;
  /** Bytes of results spilled to disk, as stored (headers included). */
  readonly spilledBytes: number;
  readonly size: number;
}

export class MemoryStore implements DataStore {
  private readonly values = new Map<string, EncodedValue>();
  private bytes = 0;

  has(key: string): boolean {
    return this.values.has(key);
  }

  inMemory(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): Promise<EncodedValue | undefined> {
    return Promise.resolve(this.values.get(key));
  }

  stream(key: string, chunkBytes: number): Promise<ValueStream | undefined> {
    const value = this.values.get(key);
    return Promise.resolve(value && memoryStream(value, chunkBytes));
  }

  put(key: string, value: EncodedValue): void {
    const previous = this.values.get(key);
    if (previous) this.bytes -= previous.bytes.byteLength;
    this.values.set(key, value);
    this.bytes += value.bytes.byteLength;
  }

  delete(key: string): boolean {
    const previous = this.values.get(key);
    if (!previous) return false;
    this.values.delete(key);
    this.bytes -= previous.bytes.byteLength;
    return true;
  }

  get managedBytes(): number {
    return this.bytes;
  }

  get spilledBytes(): number {
    return 0;
  }

  get size(): number {
    return this.values.size;
  }
}

/** Views of an in-memory value, `chunkBytes` at a time (a zero-length value is one empty chunk). */
export function memoryStream(value: EncodedValue, chunkBytes: number): ValueStream {
  const { bytes } = value;
  const size = Math.max(1, chunkBytes);
  return {
    codec: value.codec,
    totalBytes: bytes.byteLength,
    chunks: (function* () {
      for (let offset = 0; offset === 0 || offset < bytes.byteLength; offset += size) {
        yield bytes.subarray(offset, Math.min(offset + size, bytes.byteLength));
      }
    })(),
  };
}
