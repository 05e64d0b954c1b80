// The scheduler dashboard's Models section (`loom scheduler --model-store DIR`): every group with its current
// version, the versions kept, its model and failed-slice counts, family and publishing time, and the latest
// drift check of its current version with the drifted ids. It reads pointers, directory listings, manifests
// and drift records, never a model file, and only the small ones on every read: a version's manifest and a
// drift record never change once written, so each is read (and summarized) once and kept while it is current.
// This module imports none of the store's Arrow code, so the scheduler that loads it stays light.
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DashboardExtension, ModelsSectionOptions, SectionContent, SectionFactory, SectionTable, SectionTile } from '@loom/dashboard';
import { mapBounded } from '../map-bounded.js';
import { DRIFT_DIR, driftRecordNames, mostDrifted, readDriftRecord, type DriftRecord } from './drift-results.js';
import { listVersions, readCurrent } from './group-pointer.js';
import { groupsDir, versionDir } from './store-layout.js';
import { isModelStoreError, ModelStoreError } from './store-error.js';
import { readStoreMarker } from './store-marker.js';
import { readManifest, type VersionManifest } from './version-manifest.js';

/** Groups listed (by name); a store with more says how many it left out. */
const GROUP_ROWS = 200;
/** Drifted ids sent per group, most drifted first. */
const DRIFTED_IDS = 100;
/** Groups read at once: bounded, so a store of thousands of groups does not open thousands of files at once. */
const READ_CONCURRENCY = 16;
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const createDashboardSection: SectionFactory<ModelsSectionOptions> = (options) => {
  const section = new ModelsSection(resolve(options.storeDir));
  return { id: 'models', title: 'Models', data: () => section.read() } satisfies DashboardExtension;
};

/** What the section keeps of a version's manifest (not its failure list, which may hold 10,000 entries). */
interface VersionSummary {
  models: number;
  family: string;
  publishedAt: string;
  /** Slices the run that published it could not train (trainMany's record), when it says. */
  failed: number | null;
}

interface DriftSummary {
  method: string;
  detectedAt: string;
  tested: number;
  notTested: number;
  drifted: number;
  ids: string[];
}

type GroupRow =
  | { group: string; current: number; kept: number; version: VersionSummary; drift: DriftSummary | undefined }
  | { group: string; problem: string };

class ModelsSection {
  readonly #root: string;
  /** `<group>/<version>` -> its manifest's summary; kept only for versions that were current at the last read. */
  #versions = new Map<string, VersionSummary>();
  /** A drift record's path -> its summary, likewise. */
  #drift = new Map<string, DriftSummary>();

  constructor(root: string) {
    this.#root = root;
  }

  async read(): Promise<SectionContent> {
    const names = await this.#groupNames();
    if (names === undefined) return content(this.#root, [], 0, 'The directory is empty: nothing has been published to it yet.');
    const shown = names.slice(0, GROUP_ROWS);
    const versions = new Map<string, VersionSummary>();
    const drift = new Map<string, DriftSummary>();
    const rows = (await mapBounded(shown, READ_CONCURRENCY, (group) => this.#group(group, versions, drift))).filter((row): row is GroupRow => row !== undefined);
    // What is no longer current is dropped, so the caches hold one entry per listed group at most.
    this.#versions = versions;
    this.#drift = drift;
    return content(this.#root, rows, names.length - shown.length);
  }

  /** The store's group directories by name; undefined for an empty directory (a volume nothing was published to). */
  async #groupNames(): Promise<string[] | undefined> {
    if (!(await readStoreMarker(this.#root))) {
      const entries = await readdir(this.#root).catch((error: NodeJS.ErrnoException) => {
        throw new ModelStoreError('NOT_A_STORE', `no model store at ${this.#root}: ${error.code === 'ENOENT' ? 'no such directory' : error.message}`, { path: this.#root, cause: error });
      });
      if (entries.length === 0) return undefined;
      throw new ModelStoreError('NOT_A_STORE', `${this.#root} is not a model store (no loom-model-store.json), and not empty`, { path: this.#root });
    }
    const names = await readdir(groupsDir(this.#root)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    return names.filter((name) => GROUP_NAME.test(name)).sort();
  }

  /** One group's row, or a row naming its problem (a damaged manifest hides no other group). */
  async #group(group: string, versions: Map<string, VersionSummary>, drift: Map<string, DriftSummary>): Promise<GroupRow | undefined> {
    try {
      const current = await readCurrent(this.#root, group);
      if (current === undefined) return undefined; // created, nothing published yet: `loom models ls` lists it neither
      const [kept, version, latest] = await Promise.all([listVersions(this.#root, group), this.#version(group, current), this.#latestDrift(group, current)]);
      versions.set(`${group}/${current}`, version);
      if (latest !== undefined) drift.set(latest.path, latest.summary);
      return { group, current, kept: kept.length, version, drift: latest?.summary };
    } catch (error) {
      const code = isModelStoreError(error) ? error.code : ((error as NodeJS.ErrnoException).code ?? 'ERROR');
      return { group, problem: `${code}: ${(error as Error).message}` };
    }
  }

  async #version(group: string, version: number): Promise<VersionSummary> {
    const known = this.#versions.get(`${group}/${version}`);
    if (known !== undefined) return known;
    return summarizeVersion(await readManifest(versionDir(this.#root, group, version)));
  }

  async #latestDrift(group: string, version: number): Promise<{ path: string; summary: DriftSummary } | undefined> {
    const dir = versionDir(this.#root, group, version);
    const name = (await driftRecordNames(dir)).at(-1);
    if (name === undefined) return undefined;
    const path = join(dir, DRIFT_DIR, name);
    return { path, summary: this.#drift.get(path) ?? summarizeDrift(await readDriftRecord(path)) };
  }
}

function summarizeVersion(manifest: VersionManifest): VersionSummary {
  const trainMany = manifest.meta['trainMany'] as { familyKey?: unknown; failed?: unknown } | undefined;
  return {
    models: manifest.models,
    family: typeof trainMany?.familyKey === 'string' ? trainMany.familyKey : Object.keys(manifest.families).join(', '),
    publishedAt: manifest.createdAt,
    failed: typeof trainMany?.failed === 'number' ? trainMany.failed : null,
  };
}

function summarizeDrift(run: DriftRecord): DriftSummary {
  return {
    method: run.method,
    detectedAt: run.detectedAt,
    tested: run.tested,
    notTested: run.failed,
    drifted: run.drifted.length,
    ids: mostDrifted(run, DRIFTED_IDS).map((model) => model.id),
  };
}

function content(root: string, rows: GroupRow[], omitted: number, empty?: string): SectionContent {
  const groups = rows.filter((row): row is Extract<GroupRow, { current: number }> => 'current' in row);
  const problems = rows.filter((row): row is Extract<GroupRow, { problem: string }> => 'problem' in row);
  const sum = (of: (row: (typeof groups)[number]) => number) => groups.reduce((total, row) => total + of(row), 0);
  const drifted = sum((row) => row.drift?.drifted ?? 0);
  const failed = sum((row) => row.version.failed ?? 0);
  const checked = groups.filter((row) => row.drift !== undefined).length;
  const tiles: SectionTile[] = [
    { label: 'groups', value: groups.length + omitted, ...(omitted > 0 ? { sub: `${groups.length} listed` } : {}) },
    { label: 'models', value: sum((row) => row.version.models), sub: 'in current versions' },
    { label: 'versions kept', value: sum((row) => row.kept) },
    { label: 'failed slices', value: failed, sub: 'in the runs that published them', tone: failed > 0 ? 'warn' : 'muted' },
    { label: 'drifted', value: drifted, sub: `latest check of ${checked} of ${groups.length} groups`, tone: drifted > 0 ? 'bad' : 'muted' },
  ];
  if (problems.length > 0) tiles.push({ label: 'unreadable groups', value: problems.length, tone: 'bad' });
  const tables: SectionTable[] = [groupsTable(groups, omitted, empty)];
  if (problems.length > 0) tables.push(problemsTable(problems));
  return { source: `model store ${root}`, tiles, tables };
}

function groupsTable(groups: Array<Extract<GroupRow, { current: number }>>, omitted: number, empty: string | undefined): SectionTable {
  return {
    id: 'groups',
    title: 'Groups',
    note: 'current version; drift from its latest check',
    columns: [
      { key: 'group', label: 'Group', format: 'code' },
      { key: 'version', label: 'Version', format: 'number' },
      { key: 'kept', label: 'Versions kept', format: 'number' },
      { key: 'models', label: 'Models', format: 'number' },
      { key: 'failed', label: 'Failed', format: 'number' },
      { key: 'family', label: 'Family', format: 'code' },
      { key: 'published', label: 'Published', format: 'time' },
      { key: 'checked', label: 'Drift checked', format: 'time' },
      { key: 'method', label: 'Method' },
      { key: 'tested', label: 'Tested', format: 'number' },
      { key: 'drifted', label: 'Drifted', format: 'ids' },
    ],
    rows: groups.map((row) => ({
      group: row.group,
      version: row.current,
      kept: row.kept,
      models: row.version.models,
      failed: row.version.failed,
      family: row.version.family,
      published: row.version.publishedAt,
      checked: row.drift?.detectedAt ?? null,
      method: row.drift?.method ?? null,
      tested: row.drift?.tested ?? null,
      drifted: row.drift === undefined ? null : { ids: row.drift.ids, total: row.drift.drifted, noun: 'drifted' },
    })),
    omitted,
    empty: empty ?? 'No published groups yet (trainMany or loom models train publishes them).',
  };
}

function problemsTable(problems: Array<Extract<GroupRow, { problem: string }>>): SectionTable {
  return {
    id: 'problems',
    title: 'Groups that cannot be read',
    columns: [
      { key: 'group', label: 'Group', format: 'code' },
      { key: 'problem', label: 'Problem', wrap: true },
    ],
    rows: problems.map((row) => ({ group: row.group, problem: row.problem })),
  };
}
