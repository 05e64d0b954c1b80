// Loaded group versions, kept in least-recently-used order within a memory budget, and each group's current
// version. Groups load on first use; concurrent requests for one version share one load. A group's CURRENT
// pointer is read again (a stat) when its PointerWatch says it may have changed: a publish renames a new one
// into place, the watch sees it, and the new version is loaded, then swapped in with one assignment.
// Requests holding the old one finish on it; requests after the swap see the new one, and none after it sees
// an older one. A version that fails to load leaves the old one serving and is retried after a pause.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isModelStoreError, type ModelStore } from '@loom/models';
import type { Logger } from '@loom/protocol';
import { estimateBytes, LoadedGroup } from './loaded-group.js';
import { DEFAULT_RECHECK_MS, PointerWatch } from './pointer-watch.js';
import { isServeError, ServeError } from './serve-error.js';

export interface GroupCacheOptions {
  /** Bytes the loaded versions may hold together. */
  readonly maxMemory: number;
  readonly logger: Logger;
  /** How long a version that failed to load is not tried again (ms). Default 5,000. */
  readonly retryMs?: number;
  /** Longest a new version goes unnoticed where the filesystem sends no change notices (ms). Default 1,000. */
  readonly recheckMs?: number;
  /** Told of every load, for metrics. */
  readonly onLoad?: (loaded: LoadedGroup, seconds: number) => void;
}

export interface CacheStats {
  groups: number;
  models: number;
  bytes: number;
}

/** What the server last read from a group's CURRENT file. */
interface Pointer {
  /** Inode, mtime and size of CURRENT: a rename of a new pointer into place changes the inode. */
  readonly stamp: string;
  /** The version serving as current (the previous one while a newer one fails to load). */
  readonly version: number | undefined;
  /** Set when the version CURRENT names failed to load: until `retryAt`, serve `version` or answer `error`. */
  readonly error?: unknown;
  readonly retryAt?: number;
}

const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const VERSION = /^[1-9]\d{0,15}$/;

export class GroupCache {
  readonly #store: ModelStore;
  readonly #options: GroupCacheOptions;
  /** `group@version` -> loaded version; Map order is recency (least recent first). */
  readonly #entries = new Map<string, LoadedGroup>();
  readonly #loads = new Map<string, Promise<LoadedGroup>>();
  readonly #pointers = new Map<string, Pointer>();
  /** One per group whose CURRENT exists: only names that are real groups get a watch. */
  readonly #watches = new Map<string, PointerWatch>();
  readonly #switches = new Map<string, { stamp: string; done: Promise<LoadedGroup> }>();
  /** The key last in `#entries`. */
  #newest: string | undefined;
  #bytes = 0;
  /** Bytes promised to loads in progress, so two loads cannot both squeeze into the same room. */
  #reserved = 0;

  constructor(store: ModelStore, options: GroupCacheOptions) {
    this.#store = store;
    this.#options = options;
  }

  get stats(): CacheStats {
    let models = 0;
    for (const loaded of this.#entries.values()) models += loaded.size;
    return { groups: this.#entries.size, models, bytes: this.#bytes };
  }

  /** The group's current version, loaded. Synchronous when it is loaded and CURRENT has not changed. */
  current(group: string): LoadedGroup | Promise<LoadedGroup> {
    if (!GROUP_NAME.test(group)) throw unknownGroup(group);
    const now = Date.now();
    const pointer = this.#pointers.get(group);
    const retrying = pointer?.retryAt !== undefined && now >= pointer.retryAt;
    let watch = this.#watches.get(group);
    if (pointer !== undefined && watch !== undefined && !retrying && !watch.stale(now)) return this.#serving(group, pointer);
    const path = join(this.#store.dir, 'groups', group);
    if (watch === undefined) {
      // Watched before the stat, so a publish right after it is not missed.
      watch = new PointerWatch(path, this.#options.recheckMs ?? DEFAULT_RECHECK_MS);
      this.#watches.set(group, watch);
    }
    watch.read(now);
    const stamp = pointerStamp(join(path, 'CURRENT'));
    if (stamp === undefined) {
      watch.close();
      this.#watches.delete(group);
      return this.#missingPointer(group);
    }
    if (pointer !== undefined && pointer.stamp === stamp && !retrying) return this.#serving(group, pointer);
    const running = this.#switches.get(group);
    if (running !== undefined && running.stamp === stamp) return running.done;
    const done = this.#switch(group, stamp, pointer);
    this.#switches.set(group, { stamp, done });
    const clear = (): void => {
      if (this.#switches.get(group)?.done === done) this.#switches.delete(group);
    };
    done.then(clear, clear);
    return done;
  }

  /** Stops watching the store. */
  close(): void {
    for (const watch of this.#watches.values()) watch.close();
    this.#watches.clear();
  }

  #serving(group: string, pointer: Pointer): LoadedGroup | Promise<LoadedGroup> {
    if (pointer.version === undefined) throw pointer.error;
    return this.#entry(group, pointer.version) ?? this.#load(group, pointer.version);
  }

  /** A given version of the group, loaded. */
  version(group: string, version: string): LoadedGroup | Promise<LoadedGroup> {
    if (!GROUP_NAME.test(group)) throw unknownGroup(group);
    if (!VERSION.test(version)) throw new ServeError('UNKNOWN_VERSION', `group ${JSON.stringify(group)} has no version ${JSON.stringify(version.slice(0, 40))} (versions are positive integers)`);
    return this.#entry(group, Number(version)) ?? this.#load(group, Number(version));
  }

  async #switch(group: string, stamp: string, previous: Pointer | undefined): Promise<LoadedGroup> {
    let version: number | undefined;
    try {
      version = await this.#store.current(group);
      if (version === undefined) return await this.#missingPointer(group);
      const loaded = this.#entry(group, version) ?? (await this.#load(group, version));
      this.#pointers.set(group, { stamp, version });
      // The old current is dropped at once: requests holding it finish on it, and memory goes back after them.
      if (previous?.version !== undefined && previous.version !== version) this.#evict(key(group, previous.version));
      return loaded;
    } catch (error) {
      if (isServeError(error) && error.status < 500) {
        this.#pointers.delete(group);
        throw error;
      }
      const retryAt = Date.now() + (this.#options.retryMs ?? 5_000);
      const fallback = previous?.version !== undefined ? this.#entry(group, previous.version) : undefined;
      this.#options.logger.error({ group, version, err: error, serving: fallback?.version }, 'cannot load the current version of a group');
      this.#pointers.set(group, { stamp, version: fallback?.version, error, retryAt });
      if (fallback !== undefined) return fallback;
      throw error;
    }
  }

  #entry(group: string, version: number): LoadedGroup | undefined {
    const k = key(group, version);
    const loaded = this.#entries.get(k);
    if (loaded !== undefined && this.#newest !== k) {
      // Most recently used goes last (a server busy with one group skips the two Map writes).
      this.#entries.delete(k);
      this.#entries.set(k, loaded);
      this.#newest = k;
    }
    return loaded;
  }

  #load(group: string, version: number): Promise<LoadedGroup> {
    const k = key(group, version);
    const running = this.#loads.get(k);
    if (running !== undefined) return running;
    const load = this.#loadVersion(group, version);
    this.#loads.set(k, load);
    const clear = (): void => {
      this.#loads.delete(k);
    };
    load.then(clear, clear);
    return load;
  }

  async #loadVersion(group: string, version: number): Promise<LoadedGroup> {
    const started = performance.now();
    let manifest;
    try {
      manifest = await this.#store.manifest(group, version);
    } catch (error) {
      throw storeError(error, group, version);
    }
    const estimate = estimateBytes(manifest);
    const { maxMemory } = this.#options;
    if (estimate > maxMemory) {
      throw new ServeError('OVER_MEMORY_BUDGET', `group ${group} version ${version} needs about ${estimate} bytes, more than the server's memory budget of ${maxMemory} bytes (raise --max-memory)`);
    }
    this.#makeRoom(estimate);
    this.#reserved += estimate;
    let loaded: LoadedGroup;
    try {
      loaded = await LoadedGroup.load(this.#store, manifest);
    } catch (error) {
      throw storeError(error, group, version);
    } finally {
      this.#reserved -= estimate;
    }
    this.#newest = key(group, version);
    this.#entries.set(this.#newest, loaded);
    this.#bytes += loaded.byteLength;
    const seconds = (performance.now() - started) / 1000;
    this.#options.logger.info({ group, version, models: loaded.size, bytes: loaded.byteLength, seconds }, 'loaded a group version');
    this.#options.onLoad?.(loaded, seconds);
    return loaded;
  }

  /** Evicts least recently used versions until `bytes` more fit in the budget. */
  #makeRoom(bytes: number): void {
    for (const k of this.#entries.keys()) {
      if (this.#bytes + this.#reserved + bytes <= this.#options.maxMemory) return;
      this.#evict(k);
    }
  }

  #evict(k: string): void {
    const loaded = this.#entries.get(k);
    if (loaded === undefined) return;
    this.#entries.delete(k);
    if (this.#newest === k) this.#newest = undefined;
    this.#bytes -= loaded.byteLength;
    this.#options.logger.info({ group: loaded.name, version: loaded.version, bytes: loaded.byteLength }, 'evicted a group version');
  }

  async #missingPointer(group: string): Promise<never> {
    this.#pointers.delete(group);
    for (const k of [...this.#entries.keys()]) if (k.startsWith(`${group}@`)) this.#evict(k);
    try {
      await this.#store.versions(group);
    } catch (error) {
      throw storeError(error, group, undefined);
    }
    throw unknownGroup(group);
  }
}

function key(group: string, version: number): string {
  return `${group}@${version}`;
}

function pointerStamp(path: string): string | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat === undefined ? undefined : `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
}

function unknownGroup(group: string): ServeError {
  return new ServeError('UNKNOWN_GROUP', `no model group ${JSON.stringify(group.slice(0, 200))} in the store`);
}

/** The store's errors as the client sees them: what it named wrongly is a 404, a damaged version a 500. */
function storeError(error: unknown, group: string, version: number | undefined): unknown {
  if (isServeError(error)) return error;
  if (isModelStoreError(error, 'UNKNOWN_GROUP') || isModelStoreError(error, 'INVALID_NAME')) return unknownGroup(group);
  if (isModelStoreError(error, 'NO_CURRENT_VERSION')) return new ServeError('UNKNOWN_GROUP', `model group ${JSON.stringify(group)} has no published version yet`);
  if (isModelStoreError(error, 'UNKNOWN_VERSION')) return new ServeError('UNKNOWN_VERSION', `group ${JSON.stringify(group)} has no version ${String(version)}`);
  const reason = error instanceof Error ? error.message : String(error);
  return new ServeError('MODEL_UNAVAILABLE', `group ${group}${version === undefined ? '' : ` version ${version}`} cannot be loaded: ${reason}`, { cause: error });
}
