// A model group loaded once per worker process and shared by its task threads: the version's files are read
// (and checked against the manifest) into one SharedArrayBuffer by one thread, which hands the same memory to
// the others (thread-shared-cache.ts); each thread then builds its own ModelGroup over those bytes (an id index
// of a few bytes per model, no copy of the files). Also found once: the family spec of each family key in the
// version, from the trainMany runs recorded in its manifest and the manifests it carried models from.
import type { FamilySpec } from '../families/family-spec.js';
import { ModelGroup } from '../store/model-group.js';
import { versionDir } from '../store/store-layout.js';
import { versionFamilySpecs } from '../store/version-families.js';
import { readManifest, readVerified, type VersionManifest } from '../store/version-manifest.js';
import { ThreadSharedCache, type SharedValue } from './thread-shared-cache.js';

/** Where a task finds its group: the store's directory (as the workers see it), the group, a pinned version. */
export interface GroupRef {
  store: string;
  group: string;
  version: number;
}

export interface LoadedGroup {
  group: ModelGroup;
  /** The family spec of each family key the version holds, where a trainMany run recorded it. */
  families: ReadonlyMap<string, FamilySpec>;
  /** Whether this call read the files (false: this thread or another of its process had them). */
  loaded: boolean;
}

interface SharedMeta {
  dir: string;
  manifest: VersionManifest;
  /** Per file: its offset in the shared buffer (lengths are the manifest's). */
  offsets: number[];
  families: Array<[string, FamilySpec]>;
}

/** Groups a thread keeps (decoded), and the cache's capacity per thread: a few, scoring runs one at a time. */
const GROUPS_PER_THREAD = 4;
const cache = new ThreadSharedCache('loom.models.shared-group/1', GROUPS_PER_THREAD);
const decoded = new Map<string, LoadedGroup>();

export async function sharedGroup(ref: GroupRef): Promise<LoadedGroup> {
  const key = `${ref.store}\0${ref.group}\0${ref.version}`;
  const { value, loaded } = await cache.acquire(key, () => loadShared(ref));
  let entry = decoded.get(key);
  if (entry === undefined || loaded) {
    const meta = value.meta as SharedMeta;
    const files = meta.manifest.files.map((file, f) => new Uint8Array(value.buffer, meta.offsets[f], file.bytes));
    entry = { group: ModelGroup.fromFiles(meta.dir, meta.manifest, files), families: new Map(meta.families), loaded: false };
  }
  decoded.delete(key);
  decoded.set(key, entry);
  while (decoded.size > GROUPS_PER_THREAD) decoded.delete(decoded.keys().next().value as string);
  return { ...entry, loaded };
}

async function loadShared(ref: GroupRef): Promise<SharedValue> {
  const dir = versionDir(ref.store, ref.group, ref.version);
  const manifest = await readManifest(dir);
  const offsets: number[] = [];
  let total = 0;
  for (const file of manifest.files) {
    offsets.push(total);
    // 8-byte aligned, so Float64Array views of the Arrow buffers inside stay aligned.
    total += Math.ceil(file.bytes / 8) * 8;
  }
  const buffer = new SharedArrayBuffer(total);
  const shared = new Uint8Array(buffer);
  for (const [f, file] of manifest.files.entries()) shared.set(await readVerified(dir, file), offsets[f]);
  const meta: SharedMeta = { dir, manifest, offsets, families: [...(await versionFamilySpecs(ref.store, manifest))] };
  return { buffer, meta };
}

