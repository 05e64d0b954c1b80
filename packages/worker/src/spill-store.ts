// The worker's data store with spilling: results live in memory in least-recently-used order and the memory
// manager moves the oldest to files in the worker's local directory. Reads are transparent (a spilled value is
// read back, verified, and handed out without re-entering memory); an unreadable file makes the key lost, reported
// through `onLost` so the scheduler recomputes it from lineage, never served as a wrong value.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, unlink } from 'node:fs';
import { join } from 'node:path';
import type { EncodedValue, Logger } from '@loom/protocol';
import { memoryStream, type DataStore, type ValueStream } from './data-store.js';
import { readSpillChunks, readSpillFile, readSpillHeader, writeSpillFile, SpillFileError, type SpillCompression } from './spill-file.js';
import type { WorkerActivity } from './worker-activity.js';

export interface SpillStoreOptions {
  /** The directory spill files go to; created if missing, removed by close(). */
  directory: string;
  compression: SpillCompression;
  /** Keys whose spill file turned out missing or corrupt: they are gone from this store. */
  onLost(keys: string[]): void;
  logger: Logger;
  /** Told of every spill write and read back (bytes and time), for the worker's metrics and the task stream. */
  activity?: WorkerActivity;
}

interface SpilledEntry {
  path: string;
  /** Bytes on disk, header included. */
  fileBytes: number;
  /** The encoded value's size, as reported to the scheduler. */
  rawBytes: number;
}

export class SpillStore implements DataStore {
  /** In least-recently-used order: Map iteration follows insertion, and every use re-inserts. */
  private readonly memory = new Map<string, EncodedValue>();
  private readonly spilled = new Map<string, SpilledEntry>();
  private memoryBytes = 0;
  private diskBytes = 0;
  private nextFile = 0;
  private readonly prefix = randomBytes(4).toString('hex');

  constructor(private readonly options: SpillStoreOptions) {
    mkdirSync(options.directory, { recursive: true });
  }

  get directory(): string {
    return this.options.directory;
  }

  has(key: string): boolean {
    return this.memory.has(key) || this.spilled.has(key);
  }

  isSpilled(key: string): boolean {
    return this.spilled.has(key);
  }

  inMemory(key: string): boolean {
    return this.memory.has(key);
  }

  async get(key: string): Promise<EncodedValue | undefined> {
    const value = this.memory.get(key);
    if (value) {
      this.touch(key, value);
      return value;
    }
    const entry = this.spilled.get(key);
    if (!entry) return undefined;
    try {
      const started = performance.now();
      const read = await readSpillFile(entry.path);
      this.options.activity?.spillRead(started, entry.rawBytes);
      return read;
    } catch (error) {
      this.readFailed(key, entry, error);
      return undefined;
    }
  }

  async stream(key: string, chunkBytes: number): Promise<ValueStream | undefined> {
    const value = this.memory.get(key);
    if (value) {
      this.touch(key, value);
      return memoryStream(value, chunkBytes);
    }
    const entry = this.spilled.get(key);
    if (!entry) return undefined;
    try {
      const started = performance.now();
      const header = await readSpillHeader(entry.path);
      if (header.compression !== 'none') {
        // A compressed file has to be inflated whole before its bytes are known; it is then served from memory.
        const whole = await readSpillFile(entry.path);
        this.options.activity?.spillRead(started, entry.rawBytes);
        return memoryStream(whole, chunkBytes);
      }
      const store = this;
      return {
        codec: header.codec,
        totalBytes: header.rawBytes,
        chunks: (async function* () {
          try {
            yield* readSpillChunks(entry.path, header, Math.max(1, chunkBytes));
            // Read as the peer took it: the span covers the streaming, flow control included.
            store.options.activity?.spillRead(started, entry.rawBytes);
          } catch (error) {
            store.readFailed(key, entry, error);
            throw error;
          }
        })(),
      };
    } catch (error) {
      this.readFailed(key, entry, error);
      return undefined;
    }
  }

  put(key: string, value: EncodedValue): void {
    this.delete(key);
    this.memory.set(key, value);
    this.memoryBytes += value.bytes.byteLength;
  }

  delete(key: string): boolean {
    const value = this.memory.get(key);
    if (value) {
      this.memory.delete(key);
      this.memoryBytes -= value.bytes.byteLength;
      return true;
    }
    const entry = this.spilled.get(key);
    if (!entry) return false;
    this.dropSpilled(key, entry);
    return true;
  }

  /**
   * Spills the least recently used value to disk; returns the in-memory bytes it freed, or undefined if nothing
   * was spilled (nothing in memory, or the write failed: the value then stays in memory and the error is logged).
   */
  spillOldest(): number | undefined {
    const oldest = this.memory.entries().next();
    if (oldest.done) return undefined;
    const [key, value] = oldest.value;
    const path = join(this.options.directory, `${this.prefix}-${(this.nextFile++).toString(36)}.spill`);
    let fileBytes: number;
    const started = performance.now();
    try {
      fileBytes = writeSpillFile(path, value, this.options.compression);
      this.options.activity?.spillWritten(started, value.bytes.byteLength);
    } catch (error) {
      this.options.logger.error({ key, err: error }, 'spilling to disk failed; the value stays in memory');
      unlink(path, () => undefined);
      // Moved to the young end so the next attempt tries another value rather than failing on this one forever.
      this.touch(key, value);
      return undefined;
    }
    this.memory.delete(key);
    this.memoryBytes -= value.bytes.byteLength;
    this.spilled.set(key, { path, fileBytes, rawBytes: value.bytes.byteLength });
    this.diskBytes += fileBytes;
    if (this.options.logger.isLevelEnabled('debug')) this.options.logger.debug({ key, bytes: value.bytes.byteLength, fileBytes }, 'spilled');
    return value.bytes.byteLength;
  }

  /** Spills least recently used values until at most `bytes` remain in memory; returns the bytes freed. */
  spillUntil(bytes: number): number {
    let freed = 0;
    while (this.memoryBytes > bytes) {
      const step = this.spillOldest();
      if (step === undefined) break;
      freed += step;
    }
    return freed;
  }

  get inMemoryCount(): number {
    return this.memory.size;
  }

  get managedBytes(): number {
    return this.memoryBytes;
  }

  get spilledBytes(): number {
    return this.diskBytes;
  }

  get size(): number {
    return this.memory.size + this.spilled.size;
  }

  /** Forgets everything and removes the local directory with every spill file in it. */
  close(): void {
    this.memory.clear();
    this.spilled.clear();
    this.memoryBytes = 0;
    this.diskBytes = 0;
    try {
      rmSync(this.options.directory, { recursive: true, force: true });
    } catch (error) {
      this.options.logger.warn({ err: error, directory: this.options.directory }, 'could not remove the local directory');
    }
  }

  private touch(key: string, value: EncodedValue): void {
    this.memory.delete(key);
    this.memory.set(key, value);
  }

  private dropSpilled(key: string, entry: SpilledEntry): void {
    this.spilled.delete(key);
    this.diskBytes -= entry.fileBytes;
    unlink(entry.path, () => undefined);
  }

  /** A spill file that is missing or corrupt: the key is lost, unless it was released (or replaced) meanwhile. */
  private readFailed(key: string, entry: SpilledEntry, error: unknown): void {
    if (this.spilled.get(key) !== entry) return;
    this.dropSpilled(key, entry);
    const reason = error instanceof SpillFileError ? error.message : `cannot read the spill file: ${(error as Error).message}`;
    this.options.logger.error({ key, path: entry.path }, `spilled value lost: ${reason}`);
    this.options.onLost([key]);
  }
}
