// A version being written: the staging directory of one writer. Each batch of records is its own Arrow file
// with a small JSON commit record beside it (written after the data, both by rename), so after a crash the
// batches whose commit record exists are complete and a resumed writer skips their keys.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { sha256, syncDirectory, temporaryName, writeFileDurable } from './durable-fs.js';
import type { FileEntry } from './version-manifest.js';
import { StageLock } from './stage-lock.js';
import { ModelStoreError } from './store-error.js';

export interface BatchEntry extends FileEntry {
  key: string;
}

/** What a stage will carry forward from an earlier version at publish. */
export interface CarryIntent {
  version: number;
  except: string[];
}

interface StageFile {
  group: string;
  stage: string;
  /** Random, per stage created: tells this stage's published version from one of an earlier stage of the same name. */
  token: string;
  createdAt: string;
  carry: CarryIntent | null;
}

const STAGE_FILE = 'stage.json';
const LOCK_FILE = 'lock';

export class Stage {
  readonly #batches = new Map<string, BatchEntry>();
  readonly #committing = new Map<string, Promise<void>>();
  #state: StageFile;

  private constructor(
    readonly dir: string,
    readonly lock: StageLock,
    state: StageFile,
  ) {
    this.#state = state;
  }

  get batchesDir(): string {
    return join(this.dir, 'batches');
  }

  /** The directory publish builds the version in before renaming it into `versions/`. */
  get publishDir(): string {
    return join(this.dir, 'publish');
  }

  get name(): string {
    return this.#state.stage;
  }

  get token(): string {
    return this.#state.token;
  }

  get carry(): CarryIntent | null {
    return this.#state.carry;
  }

  /** Opens (resume) or creates afresh the stage in `dir`, taking its lock. */
  static async open(dir: string, group: string, stage: string, resume: boolean): Promise<Stage> {
    await mkdir(dir, { recursive: true });
    const lock = await StageLock.acquire(join(dir, LOCK_FILE));
    try {
      let state = resume ? await readStageFile(dir) : undefined;
      if (state === undefined) {
        await rm(join(dir, 'batches'), { recursive: true, force: true });
        state = { group, stage, token: randomBytes(8).toString('hex'), createdAt: new Date().toISOString(), carry: null };
        await writeFileDurable(join(dir, STAGE_FILE), JSON.stringify(state));
      }
      await rm(join(dir, 'publish'), { recursive: true, force: true });
      await mkdir(join(dir, 'batches'), { recursive: true });
      const opened = new Stage(dir, lock, state);
      await opened.#loadBatches();
      return opened;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  has(key: string): boolean {
    return this.#batches.has(key);
  }

  keys(): string[] {
    return [...this.#batches.keys()];
  }

  /** Committed batches in key order (publish's order, so a resumed and an uninterrupted run agree). */
  batches(): BatchEntry[] {
    return [...this.#batches.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Commits a batch file: data first, then its commit record. The data file's name includes its checksum, so
   * a batch written again under the same key (a recomputed task) never overwrites the file the old record names.
   */
  async commitBatch(key: string, bytes: Uint8Array, rows: number): Promise<void> {
    // Commits of one key run one after another, so the record on disk and the one in memory stay the same.
    const previous = this.#committing.get(key) ?? Promise.resolve();
    const commit = previous.catch(() => undefined).then(() => this.#commit(key, bytes, rows));
    this.#committing.set(key, commit);
    try {
      await commit;
    } finally {
      if (this.#committing.get(key) === commit) this.#committing.delete(key);
    }
  }

  async #commit(key: string, bytes: Uint8Array, rows: number): Promise<void> {
    const base = batchBase(key);
    const digest = sha256(bytes);
    const entry: BatchEntry = { key, name: `${base}-${digest.slice(0, 16)}.arrow`, rows, bytes: bytes.length, sha256: digest };
    await writeFileDurable(join(this.batchesDir, entry.name), bytes);
    await writeFileDurable(join(this.batchesDir, `${base}.json`), JSON.stringify(entry));
    const replaced = this.#batches.get(key);
    this.#batches.set(key, entry);
    if (replaced !== undefined && replaced.name !== entry.name) await rm(join(this.batchesDir, replaced.name), { force: true });
  }

  async setCarry(carry: CarryIntent): Promise<void> {
    const state = { ...this.#state, carry };
    await writeFileDurable(join(this.dir, STAGE_FILE), JSON.stringify(state));
    this.#state = state;
  }

  /**
   * Removes the stage once its version is published (or the writer aborts): renamed out of the way first, so
   * a crash while deleting leaves a hidden directory (removed by prune), never a half-deleted stage to resume.
   */
  async remove(): Promise<void> {
    const trash = join(dirname(this.dir), temporaryName(`trash-${basename(this.dir)}`));
    await rename(this.dir, trash);
    await this.lock.release();
    await rm(trash, { recursive: true, force: true });
  }

  async #loadBatches(): Promise<void> {
    const names = await readdir(this.batchesDir);
    for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.'))) {
      const path = join(this.batchesDir, name);
      let entry: BatchEntry;
      try {
        entry = JSON.parse(await readFile(path, 'utf8')) as BatchEntry;
      } catch (error) {
        throw new ModelStoreError('CORRUPT_FILE', `${path}: unreadable batch commit record: ${(error as Error).message}`, { path, cause: error });
      }
      if (typeof entry.key !== 'string' || `${batchBase(entry.key)}.json` !== name) {
        throw new ModelStoreError('CORRUPT_FILE', `${path}: not the commit record of a batch`, { path });
      }
      this.#batches.set(entry.key, entry);
    }
    // Temporary files of interrupted writes, and data files no commit record names (a crash between the two).
    const named = new Set([...this.#batches.values()].map((entry) => entry.name));
    const orphans = names.filter((n) => n.startsWith('.') || (n.endsWith('.arrow') && !named.has(n)));
    for (const name of orphans) await rm(join(this.batchesDir, name), { force: true });
    if (orphans.length > 0) await syncDirectory(this.batchesDir);
  }
}

function batchBase(key: string): string {
  return sha256(Buffer.from(key)).slice(0, 40);
}

async function readStageFile(dir: string): Promise<StageFile | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, STAGE_FILE), 'utf8')) as StageFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelStoreError('CORRUPT_FILE', `${join(dir, STAGE_FILE)}: ${(error as Error).message}`, { path: join(dir, STAGE_FILE), cause: error });
  }
}
