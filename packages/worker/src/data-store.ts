// Task results this worker holds, keyed by task key and kept *encoded* ({ codec, bytes }): the byte length is the
// measured size reported to the scheduler, and peers receive the bytes without re-serialising them.
// `get` is async on purpose: it is the seam where spilling to disk will load a value back.
import type { EncodedValue } from '@loom/protocol';

export interface DataStore {
  /** Whether the key is held at all (in memory or, later, on disk). Cheap and synchronous. */
  has(key: string): boolean;
  get(key: string): Promise<EncodedValue | undefined>;
  /** Replaces any previous value of the key. */
  put(key: string, value: EncodedValue): void;
  /** Returns whether the key was held. */
  delete(key: string): boolean;
  /** Bytes of results held in memory. */
  readonly managedBytes: number;
  /** Bytes of results spilled to disk. */
  readonly spilledBytes: number;
  readonly size: number;
}

export class MemoryStore implements DataStore {
  private readonly values = new Map<string, EncodedValue>();
  private bytes = 0;

  has(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): Promise<EncodedValue | undefined> {
    return Promise.resolve(this.values.get(key));
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
