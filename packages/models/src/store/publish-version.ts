// Publishing a stage as a new version. Two passes over the staged batches (and the version carried from):
// the first checks checksums, finds duplicate ids and settles the version's schema; the second writes part
// files of up to `rowsPerPart` models each, so memory stays bounded by one part. The version is built inside
// the stage, fsync'ed, renamed into `versions/` whole, and only then does `CURRENT` move (by rename).
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRows, ViewRows } from './record-encode.js';
import { mergeLayouts, type RecordLayout } from './record-schema.js';
import { decodeRecords, type RecordsView } from './record-view.js';
import { sha256, syncDirectory, writeFileSynced } from './durable-fs.js';
import { readCurrent, writeCurrent, listVersions, withGroupLock } from './group-pointer.js';
import type { Stage } from './stage.js';
import { MANIFEST_FILE, STORE_FORMAT, versionDir, versionDirName, versionsDir } from './store-layout.js';
import { ModelStoreError } from './store-error.js';
import { manifestText, readManifest, readVerified, type FileEntry, type VersionManifest } from './version-manifest.js';

export interface PublishOptions {
  /** Recorded in the manifest as `meta` (JSON). */
  meta?: Record<string, unknown>;
}

interface Source {
  dir: string;
  entry: FileEntry;
  /** Whether its rows are carried (filtered against the staged ids and `except`) rather than staged. */
  carried: boolean;
}

export async function publishStage(root: string, group: string, stage: Stage, rowsPerPart: number, options: PublishOptions): Promise<VersionManifest> {
  const landed = await publishedBefore(root, group, stage);
  if (landed !== undefined) return landed;
  const staged = stage.batches().map((entry): Source => ({ dir: stage.batchesDir, entry, carried: false }));
  const carry = stage.carry;
  const carriedFrom = carry === null ? [] : (await readManifest(versionDir(root, group, carry.version))).files.map((entry): Source => ({ dir: versionDir(root, group, carry.version), entry, carried: true }));
  const except = new Set(carry?.except ?? []);

  // Pass 1: ids, duplicates, layout, counts.
  const firstBatch = new Map<string, number>();
  let layout: RecordLayout | undefined;
  let carried = 0;
  for (const [index, source] of staged.entries()) {
    for (const view of await readSource(source)) {
      // An empty batch (every slice of its task failed) has no params width; it must not make the column a List.
      if (view.length > 0) layout = mergeLayouts(layout, view.layout);
      for (let i = 0; i < view.length; i++) {
        const id = view.id(i);
        const first = firstBatch.get(id);
        if (first !== undefined) {
          const keys = [staged[first]?.entry, source.entry].map((entry) => JSON.stringify((entry as { key?: string }).key));
          throw new ModelStoreError('DUPLICATE_MODEL', `model ${JSON.stringify(id)} is in two batches of stage ${stage.dir}: ${keys.join(' and ')}`);
        }
        firstBatch.set(id, index);
      }
    }
  }
  const keep = (id: string): boolean => !firstBatch.has(id) && !except.has(id);
  for (const source of carriedFrom) {
    for (const view of await readSource(source)) {
      let rows = 0;
      for (let i = 0; i < view.length; i++) if (keep(view.id(i))) rows++;
      if (rows > 0) layout = mergeLayouts(layout, view.layout);
      carried += rows;
    }
  }
  const models = firstBatch.size + carried;
  if (layout === undefined || models === 0) throw new ModelStoreError('EMPTY_VERSION', `stage ${stage.dir} has no models to publish`);

  // Pass 2: part files.
  const dir = stage.publishDir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const parts = new PartSink(dir, layout, rowsPerPart);
  for (const source of [...staged, ...carriedFrom]) {
    for (const view of await readSource(source)) {
      for (let i = 0; i < view.length; i++) if (!source.carried || keep(view.id(i))) await parts.add(view, i);
    }
  }
  await parts.flush();

  return withGroupLock(root, group, async () => {
    const existing = await listVersions(root, group);
    let version = Math.max(0, ...existing, (await readCurrent(root, group)) ?? 0) + 1;
    const manifest: VersionManifest = {
      format: STORE_FORMAT,
      group,
      version,
      createdAt: new Date().toISOString(),
      models,
      families: parts.families,
      paramWidth: layout.paramWidth ?? null,
      extraColumns: [...layout.extraKeys],
      carriedFrom: carry === null ? null : carry.version,
      carried,
      files: parts.files,
      stage: { name: stage.name, token: stage.token },
      meta: options.meta ?? {},
    };
    await writeFileSynced(join(dir, MANIFEST_FILE), manifestText(manifest));
    await syncDirectory(dir);
    await mkdir(versionsDir(root, group), { recursive: true });
    // Under the group lock no other publisher picks the same number; the loop guards against one that ignores it.
    for (;;) {
      try {
        await rename(dir, join(versionsDir(root, group), versionDirName(version)));
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
        version++;
        await rm(join(dir, MANIFEST_FILE));
        await writeFileSynced(join(dir, MANIFEST_FILE), manifestText({ ...manifest, version }));
        await syncDirectory(dir);
      }
    }
    await syncDirectory(versionsDir(root, group));
    await writeCurrent(root, group, version);
    return { ...manifest, version };
  });
}

/**
 * The version this very stage already became, when a crash came after the version's rename and before the
 * stage was removed: publishing again would make a second copy. `CURRENT` may not have moved yet; move it.
 */
async function publishedBefore(root: string, group: string, stage: Stage): Promise<VersionManifest | undefined> {
  const latest = (await listVersions(root, group)).at(-1);
  if (latest === undefined) return undefined;
  const manifest = await readManifest(versionDir(root, group, latest));
  if (manifest.stage?.token !== stage.token) return undefined;
  await withGroupLock(root, group, () => writeCurrent(root, group, latest));
  return manifest;
}

async function readSource(source: Source): Promise<RecordsView[]> {
  return decodeRecords(await readVerified(source.dir, source.entry), join(source.dir, source.entry.name));
}

/** Collects rows into part files of at most `rowsPerPart` rows, one record batch each. */
class PartSink {
  readonly files: FileEntry[] = [];
  readonly families: Record<string, number> = {};
  readonly #rows = new ViewRows();

  constructor(
    private readonly dir: string,
    private readonly layout: RecordLayout,
    private readonly rowsPerPart: number,
  ) {}

  async add(view: RecordsView, row: number): Promise<void> {
    this.#rows.add(view, row);
    const familyKey = view.text('family_key')?.get(row) as string;
    this.families[familyKey] = (this.families[familyKey] ?? 0) + 1;
    if (this.#rows.length >= this.rowsPerPart) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#rows.length === 0) return;
    const bytes = encodeRows(this.#rows, this.layout);
    const name = `part-${String(this.files.length).padStart(5, '0')}.arrow`;
    await writeFileSynced(join(this.dir, name), bytes);
    this.files.push({ name, rows: this.#rows.length, bytes: bytes.length, sha256: sha256(bytes) });
    this.#rows.clear();
  }
}
