// One version of a group as the server holds it: the store's ModelGroup (columns in place, O(1) id index) and
// the family of each of its family keys, rebuilt once at load, so a request only looks ids up and predicts.
import type { ModelFamily, ModelGroup, ModelStore, VersionManifest } from '@loom/models';
import { groupFamilies } from './group-families.js';

export class LoadedGroup {
  /** The one family of the version, when it has one (the usual case: no per-model family lookup). */
  readonly #only: ModelFamily | undefined;

  private constructor(
    readonly models: ModelGroup,
    readonly families: ReadonlyMap<string, ModelFamily>,
  ) {
    this.#only = families.size === 1 ? [...families.values()][0] : undefined;
  }

  static async load(store: ModelStore, manifest: VersionManifest): Promise<LoadedGroup> {
    const families = await groupFamilies(store.dir, manifest);
    return new LoadedGroup(await store.open(manifest.group, manifest.version), families);
  }

  get name(): string {
    return this.models.name;
  }

  get version(): number {
    return this.models.version;
  }

  get size(): number {
    return this.models.size;
  }

  /** Bytes held: the version's files and its id index. */
  get byteLength(): number {
    return this.models.byteLength;
  }

  /** The family that scores the model at `id` (which the caller has found in the version). */
  familyOf(id: string): ModelFamily {
    if (this.#only !== undefined) return this.#only;
    return this.families.get((this.models.get(id) as { familyKey: string }).familyKey) as ModelFamily;
  }

  /** Fewest values a request row needs for every model of the version: the longest history plus the last value. */
  get minValues(): number {
    return 1 + Math.max(...[...this.families.values()].map((family) => family.historyPoints()));
  }
}

/** What loading a version will hold, from its manifest alone: its files' bytes and the id index's slots. */
export function estimateBytes(manifest: VersionManifest): number {
  let slots = 16;
  while (slots < manifest.models * 2) slots *= 2;
  return manifest.files.reduce((sum, file) => sum + file.bytes, 0) + slots * 4;
}
