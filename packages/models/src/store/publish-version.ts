// Publishing a stage as a new version. Two passes over the staged batches (and the version carried from):
// the first checks checksums, finds duplicate ids and settles the version's schema; the second makes part
// files of up to `rowsPerPart` models each (a staged batch that fits is one as it is), so memory stays
// bounded by one part. The version is built inside
// the stage, fsync'ed, renamed into `versions/` whole, and only then does `CURRENT` move (by rename).
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRows, ViewRows } from './record-encode.js';
import { mergeLayouts, type RecordLayout } from './record-schema.js';
import { decodeRecords, type RecordsView, type Utf8Column } from './record-view.js';
import { encodeRuns, sameLayout, type RowRun } from './record-concat.js';
import { IdIndex } from './id-index.js';
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

/**
 * Staged batches of at least this many models become parts as they are: writing them again cost most of
 * publish (0.7 s of 1.3 s for 250,000 models in 37 batches, the rest reading). Smaller ones are packed
 * together, so a version stays a few files of thousands of models each.
 */
const LINKED_PART_ROWS = 4096;

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

  // Pass 1: ids, duplicates, layout, counts. The staged ids are indexed by their bytes (copied out of each
  // file, so the index does not hold the files), with no string per model.
  const stagedIds: Utf8Column[] = [];
  const stagedLengths: number[] = [];
  const stagedLayouts = new Map<Source, RecordLayout[]>();
  const families: Record<string, number> = {};
  let layout: RecordLayout | undefined;
  let carried = 0;
  for (const source of staged) {
    const views = await readSource(source);
    const rows = views.reduce((sum, view) => sum + view.length, 0);
    const path = join(source.dir, source.entry.name);
    if (rows !== source.entry.rows) throw new ModelStoreError('CORRUPT_FILE', `${path}: ${rows} rows, its commit record says ${source.entry.rows}`, { path });
    for (const view of views) {
      // An empty batch (every slice of its task failed) has no params width; it must not make the column a List.
      if (view.length > 0) layout = mergeLayouts(layout, view.layout);
      stagedIds.push(view.ids.compact(view.length));
      stagedLengths.push(view.length);
      countFamilies({ view, start: 0, end: view.length }, families);
    }
    stagedLayouts.set(source, views.map((view) => view.layout));
  }
  const index = new IdIndex(stagedIds, stagedLengths);
  if (index.duplicate !== undefined) throw await duplicateError(staged, index.duplicate, stage);
  const stagedCount = stagedLengths.reduce((sum, n) => sum + n, 0);
  const keep = (view: RecordsView, i: number): boolean => !index.hasCell(view.ids, i) && (except.size === 0 || !except.has(view.id(i)));
  for (const source of carriedFrom) {
    for (const view of await readSource(source)) {
      let rows = 0;
      for (let i = 0; i < view.length; i++) if (keep(view, i)) rows++;
      if (rows > 0) layout = mergeLayouts(layout, view.layout);
      carried += rows;
    }
  }
  const models = stagedCount + carried;
  if (layout === undefined || models === 0) throw new ModelStoreError('EMPTY_VERSION', `stage ${stage.dir} has no models to publish`);

  // Pass 2: part files. A staged batch in the version's layout that fits a part, and is big enough to be one,
  // becomes one as it is (a hard link: it is already written, checked and durable). Other rows are copied in
  // runs of consecutive rows (a staged batch is one run; carried rows are runs between the replaced ones).
  const linkable = (source: Source): boolean => {
    const { rows } = source.entry;
    const layouts = stagedLayouts.get(source) ?? [];
    return !source.carried && rows >= Math.min(LINKED_PART_ROWS, rowsPerPart) && rows <= rowsPerPart && layouts.every((each) => sameLayout(each, layout));
  };
  const dir = stage.publishDir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const parts = new PartSink(dir, layout, rowsPerPart);
  for (const source of [...staged, ...carriedFrom]) {
    if (!source.carried && source.entry.rows === 0) continue;
    if (linkable(source)) {
      await parts.link(source.dir, source.entry);
      continue;
    }
    for (const view of await readSource(source)) {
      let i = 0;
      while (i < view.length) {
        if (source.carried && !keep(view, i)) {
          i++;
          continue;
        }
        let end = i + 1;
        while (end < view.length && (!source.carried || keep(view, end))) end++;
        const run = { view, start: i, end };
        if (source.carried) countFamilies(run, families);
        await parts.add(run);
        i = end;
      }
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
      families,
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

/** The error for an id staged twice, naming the two batches that hold it (a second scan, on this path only). */
async function duplicateError(staged: readonly Source[], id: string, stage: Stage): Promise<ModelStoreError> {
  const holders: string[] = [];
  for (const source of staged) {
    for (const view of await readSource(source)) {
      for (let i = 0; i < view.length && holders.length < 2; i++) if (view.id(i) === id) holders.push(JSON.stringify((source.entry as { key?: string }).key));
    }
  }
  return new ModelStoreError('DUPLICATE_MODEL', `model ${JSON.stringify(id)} is in two batches of stage ${stage.dir}: ${holders.join(' and ')}`);
}

/**
 * Collects runs of rows into part files of at most `rowsPerPart` rows, one record batch each. Runs whose file
 * has the version's layout are copied column by column; others (an older version's file carried into a
 * wider layout) go through the row encoder. A staged file that is a part as it is gets linked in.
 */
class PartSink {
  readonly files: FileEntry[] = [];
  #runs: RowRun[] = [];
  #rows = 0;

  constructor(
    private readonly dir: string,
    private readonly layout: RecordLayout,
    private readonly rowsPerPart: number,
  ) {}

  async add(run: RowRun): Promise<void> {
    let { start } = run;
    while (start < run.end) {
      const take = Math.min(run.end - start, this.rowsPerPart - this.#rows);
      this.#runs.push({ view: run.view, start, end: start + take });
      this.#rows += take;
      start += take;
      if (this.#rows >= this.rowsPerPart) await this.flush();
    }
  }

  async link(dir: string, entry: FileEntry): Promise<void> {
    const name = this.#nextName();
    await linkOrCopy(join(dir, entry.name), join(this.dir, name));
    this.files.push({ name, rows: entry.rows, bytes: entry.bytes, sha256: entry.sha256 });
  }

  async flush(): Promise<void> {
    if (this.#rows === 0) return;
    const bytes = this.#runs.every((run) => sameLayout(run.view.layout, this.layout)) ? encodeRuns(this.#runs, this.layout) : encodeRows(ViewRows.of(this.#runs), this.layout);
    const name = this.#nextName();
    await writeFileSynced(join(this.dir, name), bytes);
    this.files.push({ name, rows: this.#rows, bytes: bytes.length, sha256: sha256(bytes) });
    this.#runs = [];
    this.#rows = 0;
  }

  #nextName(): string {
    return `part-${String(this.files.length).padStart(5, '0')}.arrow`;
  }
}

/** Errors of link(2) that mean "this filesystem does not link here", not a failure: copy instead. */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/** A second name for an immutable file, or where the filesystem has no hard links, a durable copy. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    if (!NO_LINK.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await copyFile(from, to, constants.COPYFILE_EXCL);
    const handle = await open(to, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** Adds the run's models per family key; a string is made only where the key changes from row to row. */
function countFamilies(run: RowRun, into: Record<string, number>): void {
  const keys = run.view.text('family_key') as Utf8Column;
  let i = run.start;
  while (i < run.end) {
    const start = keys.start(i);
    const length = keys.end(i) - start;
    let end = i + 1;
    while (end < run.end && keys.end(end) - keys.start(end) === length && keys.bytes.compare(keys.bytes, start, start + length, keys.start(end), keys.end(end)) === 0) end++;
    const key = keys.get(i) as string;
    into[key] = (into[key] ?? 0) + end - i;
    i = end;
  }
}
