// One loaded version of a group: its part files read and checked, columns kept as views into the file bytes
// (Arrow layout, no per-model objects), and an id index over those bytes for O(1) lookup. A record object is
// built only when one is asked for, with `params` a view into the file, not a copy.
import { join } from 'node:path';
import type { ModelMetrics } from '../families/evaluate.js';
import { IdIndex, partOf } from './id-index.js';
import type { StoredModel } from './model-record.js';
import { decodeRecords, type RecordsView } from './record-view.js';
import { ModelStoreError } from './store-error.js';
import { readVerified, type VersionManifest } from './version-manifest.js';

export class ModelGroup {
  readonly name: string;
  readonly version: number;
  readonly manifest: VersionManifest;
  readonly size: number;
  /** Bytes of the version's files held in memory. */
  readonly fileBytes: number;
  readonly #parts: RecordsView[];
  /** First row of each part. */
  readonly #starts: number[];
  readonly #index: IdIndex;
  #ids: string[] | undefined;

  private constructor(manifest: VersionManifest, parts: RecordsView[], fileBytes: number, dir: string) {
    this.name = manifest.group;
    this.version = manifest.version;
    this.manifest = manifest;
    this.fileBytes = fileBytes;
    this.#parts = parts;
    this.#starts = [];
    let rows = 0;
    for (const part of parts) {
      this.#starts.push(rows);
      rows += part.length;
    }
    this.size = rows;
    if (rows !== manifest.models) throw new ModelStoreError('CORRUPT_FILE', `${dir}: ${rows} models in the files, the manifest says ${manifest.models}`, { path: dir });
    this.#index = new IdIndex(parts.map((part) => part.ids), parts.map((part) => part.length));
    const duplicate = this.#index.duplicate;
    if (duplicate !== undefined) throw new ModelStoreError('CORRUPT_FILE', `${dir}: model ${JSON.stringify(duplicate)} appears twice in version ${manifest.version}`, { path: dir });
  }

  /** Bytes held in memory: the files' bytes and the id index. */
  get byteLength(): number {
    return this.fileBytes + this.#index.byteLength;
  }

  /** Every model id in row order (built on first use: a string per model). */
  get ids(): readonly string[] {
    if (this.#ids === undefined) {
      const ids: string[] = [];
      for (const part of this.#parts) for (let i = 0; i < part.length; i++) ids.push(part.id(i));
      this.#ids = ids;
    }
    return this.#ids;
  }

  /** Reads and checks every file of the version in `dir`, whose manifest is `manifest`. */
  static async load(dir: string, manifest: VersionManifest): Promise<ModelGroup> {
    const files: Uint8Array[] = [];
    for (const entry of manifest.files) files.push(await readVerified(dir, entry));
    return ModelGroup.fromFiles(dir, manifest, files);
  }

  /**
   * A version from its files' bytes, already read and checked against `manifest` (one per manifest entry, in
   * order): views into them, no copies. Task threads build a group over bytes another thread read (score-many).
   */
  static fromFiles(dir: string, manifest: VersionManifest, files: readonly Uint8Array[]): ModelGroup {
    const parts: RecordsView[] = [];
    let fileBytes = 0;
    manifest.files.forEach((entry, f) => {
      const path = join(dir, entry.name);
      const bytes = files[f];
      if (bytes === undefined) throw new ModelStoreError('CORRUPT_FILE', `${path}: no bytes given for it`, { path });
      const views = decodeRecords(bytes, path);
      const rows = views.reduce((sum, view) => sum + view.length, 0);
      if (rows !== entry.rows) throw new ModelStoreError('CORRUPT_FILE', `${path}: ${rows} rows, the manifest says ${entry.rows}`, { path });
      parts.push(...views);
      fileBytes += bytes.length;
    });
    return new ModelGroup(manifest, parts, fileBytes, dir);
  }

  has(id: string): boolean {
    return this.#index.get(id) !== undefined;
  }

  /** The model of `id`, or undefined. */
  get(id: string): StoredModel | undefined {
    const row = this.#index.get(id);
    return row === undefined ? undefined : this.at(row);
  }

  /** Just the packed params of `id` (a view: no record object is built). */
  params(id: string): Float64Array | undefined {
    const row = this.#index.get(id);
    if (row === undefined) return undefined;
    // On the path of every served model: the part found without #locate's pair.
    const part = partOf(this.#starts, row);
    return (this.#parts[part] as RecordsView).params(row - (this.#starts[part] as number));
  }

  /** The model at `row` (0 <= row < size), in file order. */
  at(row: number): StoredModel {
    if (!Number.isInteger(row) || row < 0 || row >= this.size) throw new RangeError(`row ${row} is outside 0..${this.size - 1}`);
    const [part, local] = this.#locate(row);
    return part.record(local);
  }

  /** One metric of every model, in row order (NaN where undefined). */
  metric(name: keyof ModelMetrics): Float64Array {
    const values = new Float64Array(this.size);
    let at = 0;
    for (const part of this.#parts) {
      values.set(part.metric(name), at);
      at += part.length;
    }
    return values;
  }

  *[Symbol.iterator](): IterableIterator<StoredModel> {
    for (const part of this.#parts) for (let i = 0; i < part.length; i++) yield part.record(i);
  }

  #locate(row: number): [RecordsView, number] {
    const part = partOf(this.#starts, row);
    return [this.#parts[part] as RecordsView, row - (this.#starts[part] as number)];
  }
}
