// Writing one version of a group: batches of model records are staged durably as they are trained, unchanged
// models can be carried forward from an earlier version, and publish() makes it all the group's new current
// version at once. A writer opened with `resume` on the stage of a crashed run keeps that run's batches.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { encodeColumns } from './column-encode.js';
import { checkColumns, type ModelColumns } from './model-columns.js';
import { checkRecord, type ModelRecord } from './model-record.js';
import { encodeRows, RecordRows } from './record-encode.js';
import { layoutOf } from './record-schema.js';
import { listVersions, readCurrent } from './group-pointer.js';
import { publishStage, type PublishOptions } from './publish-version.js';
import { Stage } from './stage.js';
import { stageDir, versionsDir } from './store-layout.js';
import { ModelStoreError } from './store-error.js';
import type { VersionManifest } from './version-manifest.js';

export interface WriterOptions {
  /**
   * Name of the stage (the in-progress version). Re-running a job with the same stage name and `resume`
   * continues it; trainMany derives it from its inputs. Default: a fresh random name.
   */
  stage?: string;
  /** Keep the batches an earlier writer of this stage committed (else the stage starts empty). Default false. */
  resume?: boolean;
  /** Models per part file of the published version; default 65,536. */
  rowsPerPart?: number;
}

export interface CarryOptions {
  /** Ids not to carry (models to drop from the new version). */
  except?: Iterable<string>;
}

const DEFAULT_ROWS_PER_PART = 65_536;

export class ModelWriter {
  readonly #root: string;
  readonly #stage: Stage;
  readonly #rowsPerPart: number;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  private constructor(
    root: string,
    readonly group: string,
    readonly stage: string,
    stageState: Stage,
    rowsPerPart: number,
  ) {
    this.#root = root;
    this.#stage = stageState;
    this.#rowsPerPart = rowsPerPart;
  }

  static async open(root: string, group: string, options: WriterOptions = {}): Promise<ModelWriter> {
    const rowsPerPart = options.rowsPerPart ?? DEFAULT_ROWS_PER_PART;
    if (!Number.isSafeInteger(rowsPerPart) || rowsPerPart < 1) throw new ModelStoreError('BAD_OPTIONS', `rowsPerPart must be a positive integer, got ${String(rowsPerPart)}`);
    const name = options.stage ?? `run-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const dir = stageDir(root, group, name);
    await mkdir(versionsDir(root, group), { recursive: true });
    const stage = await Stage.open(dir, group, name, options.resume === true);
    return new ModelWriter(root, group, name, stage, rowsPerPart);
  }

  /** Whether a batch of this key is committed (by this writer, or by the crashed run it resumes). */
  hasBatch(key: string): boolean {
    return this.#stage.has(key);
  }

  batchKeys(): string[] {
    return this.#stage.keys();
  }

  /**
   * Stages a batch durably: when this resolves, the batch survives a crash of this process. Writing a key
   * again replaces that batch (a recomputed task), so a batch is never counted twice.
   */
  async writeBatch(key: string, records: readonly ModelRecord[]): Promise<void> {
    this.#checkOpen();
    checkBatchKey(key);
    const where = `batch ${JSON.stringify(key)}`;
    const ids = new Set<string>();
    for (const record of records) {
      checkRecord(record, where);
      if (ids.has(record.id)) throw new ModelStoreError('DUPLICATE_MODEL', `${where}: model ${JSON.stringify(record.id)} appears twice`);
      ids.add(record.id);
    }
    await this.#commit(key, encodeRows(new RecordRows(records, Date.now()), layoutOf(records)), records.length);
  }

  /**
   * Stages a batch given as columns (model-columns.ts), as writeBatch does for records: the listed rows are the
   * batch's models. The form trainMany writes in, with no object per model.
   */
  async writeColumns(key: string, columns: ModelColumns): Promise<void> {
    this.#checkOpen();
    checkBatchKey(key);
    const layout = checkColumns(columns, `batch ${JSON.stringify(key)}`);
    await this.#commit(key, encodeColumns(columns, layout, Date.now()), columns.rows.length);
  }

  async #commit(key: string, bytes: Uint8Array, models: number): Promise<void> {
    await this.#track(this.#stage.commitBatch(key, bytes, models));
  }

  /**
   * Takes every model of `from` (a version number or the current version) whose id this writer has not
   * staged and `except` does not name. Staged batches win over carried models whenever they are written.
   */
  async carryForward(from: number | 'current', options: CarryOptions = {}): Promise<number> {
    this.#checkOpen();
    const version = from === 'current' ? await readCurrent(this.#root, this.group) : from;
    if (version === undefined) throw new ModelStoreError('NO_CURRENT_VERSION', `group ${JSON.stringify(this.group)} has no current version to carry forward from`);
    if (!(await listVersions(this.#root, this.group)).includes(version)) {
      throw new ModelStoreError('UNKNOWN_VERSION', `group ${JSON.stringify(this.group)} has no version ${version}`);
    }
    await this.#track(this.#stage.setCarry({ version, except: [...(options.except ?? [])] }));
    return version;
  }

  /** Publishes the staged batches (and carried models) as the group's new current version. */
  async publish(options: PublishOptions = {}): Promise<VersionManifest> {
    this.#checkOpen();
    await Promise.allSettled(this.#inFlight);
    this.#closed = true;
    try {
      const manifest = await publishStage(this.#root, this.group, this.#stage, this.#rowsPerPart, options);
      await this.#stage.remove();
      return manifest;
    } catch (error) {
      // The stage stays (and resumable): a publish that failed on a duplicate or a full disk can be retried.
      await this.#stage.lock.release();
      throw error;
    }
  }

  /** Drops the stage and everything staged in it. */
  async abort(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#inFlight);
    await this.#stage.remove();
  }

  /** Stops writing and releases the stage, keeping what is staged: a later writer with `resume` continues it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#inFlight);
    await this.#stage.lock.release();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ModelStoreError('WRITER_CLOSED', `the writer of stage ${JSON.stringify(this.stage)} of group ${JSON.stringify(this.group)} is published or aborted`);
  }

  async #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    try {
      return await work;
    } finally {
      this.#inFlight.delete(work);
    }
  }
}

function checkBatchKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new ModelStoreError('BAD_OPTIONS', 'a batch key must be a non-empty string');
}
