// The model store: a directory of groups, each a sequence of published versions with one current. Reading is
// lock-free (a reader follows `CURRENT` to a complete, immutable version directory); writing goes through a
// ModelWriter; pruning removes old versions by renaming them out of `versions/` before deleting them.
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readDriftRecords, writeDriftRecord, type DriftRecord } from './drift-results.js';
import { temporaryName, writeFileDurable } from './durable-fs.js';
import { listVersions, readCurrent, withGroupLock } from './group-pointer.js';
import { ModelGroup } from './model-group.js';
import { ModelWriter, type WriterOptions } from './model-writer.js';
import { StageLock } from './stage-lock.js';
import { readStoreMarker } from './store-marker.js';
import { checkName, groupDir, groupsDir, STORE_FORMAT, STORE_MARKER, stagingDir, versionDir, versionsDir } from './store-layout.js';
import { isModelStoreError, ModelStoreError } from './store-error.js';
import { readManifest, type VersionManifest } from './version-manifest.js';

export interface OpenStoreOptions {
  /** Create the directory (and mark it as a store) when missing; default true. The CLI opens with false. */
  create?: boolean;
}

export interface VersionInfo {
  version: number;
  createdAt: string;
  models: number;
  /** Bytes of its part files. */
  bytes: number;
  current: boolean;
}

export interface PruneOptions {
  /** Versions to keep, newest first; the current version is always kept. At least 1. */
  keep: number;
  /** Also remove stages no live writer holds (crashed runs that will not be resumed). Default false. */
  stages?: boolean;
}

export interface PruneResult {
  removedVersions: number[];
  removedStages: string[];
}

export class ModelStore {
  private constructor(readonly dir: string) {}

  static async open(dir: string, options: OpenStoreOptions = {}): Promise<ModelStore> {
    const root = resolve(dir);
    const marker = join(root, STORE_MARKER);
    if (await readStoreMarker(root)) return new ModelStore(root);
    if (options.create === false) throw new ModelStoreError('NOT_A_STORE', `${root} is not a model store (no ${STORE_MARKER})`, { path: root });
    await mkdir(root, { recursive: true });
    // A directory already holding other things is not made a store: a mistyped path must not scatter files.
    const entries = (await readdir(root)).filter((name) => !name.startsWith(`.${STORE_MARKER}.tmp-`));
    if (entries.length > 0) throw new ModelStoreError('NOT_A_STORE', `${root} is not empty and not a model store (no ${STORE_MARKER})`, { path: root });
    await mkdir(groupsDir(root), { recursive: true });
    await writeFileDurable(marker, `${JSON.stringify({ format: STORE_FORMAT })}\n`);
    return new ModelStore(root);
  }

  /** Groups with at least one published version, by name. */
  async groups(): Promise<string[]> {
    const names = await readdir(groupsDir(this.dir)).catch(() => [] as string[]);
    const published: string[] = [];
    for (const name of names.sort()) {
      if (name.startsWith('.')) continue;
      if ((await readCurrent(this.dir, name)) !== undefined) published.push(name);
    }
    return published;
  }

  async current(group: string): Promise<number | undefined> {
    return readCurrent(this.dir, group);
  }

  /** Published versions of a group, oldest first. */
  async versions(group: string): Promise<VersionInfo[]> {
    const current = await this.#requireCurrent(group);
    const infos: VersionInfo[] = [];
    for (const version of await listVersions(this.dir, group)) {
      const manifest = await readManifest(versionDir(this.dir, group, version));
      const bytes = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
      infos.push({ version, createdAt: manifest.createdAt, models: manifest.models, bytes, current: version === current });
    }
    return infos;
  }

  /** A version's manifest (default the current one) without loading its models. */
  async manifest(group: string, version?: number): Promise<VersionManifest> {
    return readManifest(await this.#versionDir(group, version));
  }

  /** Loads a version (default the current one), checking every file against its manifest. */
  async open(group: string, version?: number): Promise<ModelGroup> {
    const dir = await this.#versionDir(group, version);
    return ModelGroup.load(dir, await readManifest(dir));
  }

  /** The drift runs recorded beside a version (default the current one), oldest first (detectDrift writes them). */
  async driftResults(group: string, version?: number): Promise<DriftRecord[]> {
    return readDriftRecords(await this.#versionDir(group, version));
  }

  /** Records a drift run beside its version (record.version); returns the file's name. */
  async recordDrift(record: DriftRecord): Promise<string> {
    return writeDriftRecord(await this.#versionDir(record.group, record.version), record);
  }

  /** A writer of a new version of `group` (created on first write). */
  async writer(group: string, options?: WriterOptions): Promise<ModelWriter> {
    checkName('group', group);
    return ModelWriter.open(this.dir, group, options);
  }

  async prune(group: string, options: PruneOptions): Promise<PruneResult> {
    const keep = options.keep;
    if (!Number.isSafeInteger(keep) || keep < 1) throw new ModelStoreError('BAD_OPTIONS', `prune keep must be an integer >= 1, got ${String(keep)}`);
    const current = await this.#requireCurrent(group);
    const removedVersions = await withGroupLock(this.dir, group, async () => {
      const versions = await listVersions(this.dir, group);
      const kept = new Set([...versions.slice(-keep), current]);
      const removed = versions.filter((version) => !kept.has(version));
      // Left by a prune that crashed between its rename and its delete.
      for (const name of await readdir(versionsDir(this.dir, group))) {
        if (name.startsWith('.trash-')) await rm(join(versionsDir(this.dir, group), name), { recursive: true, force: true });
      }
      for (const version of removed) {
        // Out of versions/ in one rename, so no reader or lister ever sees a half-deleted version.
        const trash = join(versionsDir(this.dir, group), temporaryName(`trash-${version}`));
        await rename(versionDir(this.dir, group, version), trash);
        await rm(trash, { recursive: true, force: true });
      }
      return removed;
    });
    const removedStages = options.stages === true ? await this.#removeAbandonedStages(group) : [];
    return { removedVersions, removedStages };
  }

  async #removeAbandonedStages(group: string): Promise<string[]> {
    const dir = stagingDir(this.dir, group);
    const removed: string[] = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      let lock: StageLock;
      try {
        lock = await StageLock.acquire(join(dir, name, 'lock'));
      } catch (error) {
        if (isModelStoreError(error, 'STAGE_BUSY')) continue;
        throw error;
      }
      await rm(join(dir, name), { recursive: true, force: true });
      await lock.release();
      removed.push(name);
    }
    return removed;
  }

  async #requireCurrent(group: string): Promise<number> {
    const current = await readCurrent(this.dir, group);
    if (current !== undefined) return current;
    const exists = await stat(groupDir(this.dir, group)).then(() => true, () => false);
    if (!exists) throw new ModelStoreError('UNKNOWN_GROUP', `no group ${JSON.stringify(group)} in the store at ${this.dir}`, { path: groupDir(this.dir, group) });
    throw new ModelStoreError('NO_CURRENT_VERSION', `group ${JSON.stringify(group)} has no published version yet`, { path: groupDir(this.dir, group) });
  }

  async #versionDir(group: string, version: number | undefined): Promise<string> {
    const chosen = version ?? (await this.#requireCurrent(group));
    if (version !== undefined && !(await listVersions(this.dir, group)).includes(version)) {
      await this.#requireCurrent(group); // an unknown group says so rather than "unknown version"
      throw new ModelStoreError('UNKNOWN_VERSION', `group ${JSON.stringify(group)} has no version ${version}`, { path: versionsDir(this.dir, group) });
    }
    return versionDir(this.dir, group, chosen);
  }
}
