// Planning a run that uses a group's stored models (scoreMany, detectDrift) on the client, synchronously: the
// version is pinned now (so every task uses the same models, whatever is published meanwhile), the slices are
// packed by source exactly as trainMany packs them (plan-batches.ts), and each batch becomes a wire spec.
import { randomUUID } from 'node:crypto';
import { familySpec, type FamilySpec } from '../families/family-spec.js';
import type { ModelFamily } from '../families/family.js';
import { connectionFor, type Connections } from '../split/resolve-sources.js';
import { Split } from '../split/split.js';
import { readCurrentSync } from '../store/group-pointer.js';
import { ModelStore } from '../store/model-store.js';
import { versionDir } from '../store/store-layout.js';
import { ModelStoreError } from '../store/store-error.js';
import { readManifestSync, type VersionManifest } from '../store/version-manifest.js';
import { batchSpec } from '../train-many/batch-spec.js';
import { planBatches, type PlannedBatch } from '../train-many/plan-batches.js';
import { ScoreManyError } from './errors.js';
import type { ModelBatchSpec } from './score-wire.js';

export interface ModelRunOptions {
  store: ModelStore;
  group: string;
  split: Split;
  /** Database name to PostgreSQL connection string; default: the connections readSplit was given. */
  connections?: Connections;
  /** The version whose models are used (default: the current one when the call is made). */
  version?: number;
  /** The time column of every source; default the split's. */
  timeColumn?: string;
  /** Families to rebuild models with, by key, for groups whose store records no spec (written by hand). */
  families?: readonly ModelFamily[];
  /** Target seconds of work per task (default 0.5), as trainMany's. */
  batchSeconds?: number;
  /** Values a slice of average range width holds, for sizing batches (default 720). */
  pointsPerSlice?: number;
}

export interface PlannedRun {
  manifest: VersionManifest;
  batches: PlannedBatch[];
  /** The wire spec of batch i (built when asked, so a client holds few at once). */
  spec(batch: PlannedBatch): ModelBatchSpec;
}

/** Costs are estimated as for training the family that trained the version (predicting costs less). */
const DEFAULT_COST_FAMILY: FamilySpec = { family: 'ar', params: { p: 8 } };

export function planModelRun(what: string, options: ModelRunOptions): PlannedRun {
  const bad = (message: string): never => {
    throw new ScoreManyError('BAD_OPTIONS', `${what}: ${message}`);
  };
  if (!(options?.split instanceof Split)) bad('split must be a Split (from readSplit)');
  if (!(options.store instanceof ModelStore)) bad('store must be a ModelStore (from ModelStore.open)');
  if (typeof options.group !== 'string') bad('group must be a string');
  if (options.version !== undefined && !(Number.isSafeInteger(options.version) && options.version > 0)) bad(`version must be a positive integer, got ${String(options.version)}`);
  const { split, store, group } = options;
  const timeColumn = options.timeColumn ?? split.timeColumn;
  const version = options.version ?? readCurrentSync(store.dir, group);
  if (version === undefined) throw new ModelStoreError('NO_CURRENT_VERSION', `group ${JSON.stringify(group)} has no published version in ${store.dir}`);
  const manifest = readManifestSync(versionDir(store.dir, group, version));
  const families: Array<[string, FamilySpec]> = (options.families ?? []).map((family) => [family.key(), familySpec(family)]);
  const recorded = (manifest.meta['trainMany'] as { family?: FamilySpec } | undefined)?.family;
  const costFamily = recorded ?? families[0]?.[1] ?? DEFAULT_COST_FAMILY;
  const runKey = `${what}:${group}@${version}:${randomUUID()}`;
  const batches = planBatches(split, {
    family: costFamily,
    familyKey: runKey,
    timeColumn,
    batchSeconds: positive(options.batchSeconds, 'batchSeconds', 0.5, bad),
    pointsPerSlice: positive(options.pointsPerSlice, 'pointsPerSlice', 720, bad),
  });
  const connectionOf = sourceConnections(what, split, options.connections);
  const models = { store: store.dir, group, version };
  return {
    manifest,
    batches,
    spec: (batch) => {
      const { sources, columnOf, ranges } = batchSpec(batch, { family: costFamily, familyKey: runKey, timeColumn, connectionOf });
      return { models, timeColumn, sources, columnOf, ranges, ids: batch.slices.map((slice) => slice.id), families };
    },
  };
}

function positive(value: number | undefined, name: string, fallback: number, bad: (message: string) => never): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) bad(`${name} must be a positive number, got ${String(value)}`);
  return value;
}

/** Each database's connection string, checked now: a database without one stops the run, naming them all. */
function sourceConnections(what: string, split: Split, connections: Connections | undefined): (database: string) => string {
  const resolved = new Map<string, string>();
  const missing: string[] = [];
  for (const slice of split.slices) {
    const { source } = slice;
    if (source.kind !== 'database' || resolved.has(source.database)) continue;
    const connection = connections === undefined ? (source.connection ?? new Error(`no connection string for database ${JSON.stringify(source.database)}`)) : connectionFor(connections, source.database);
    if (typeof connection === 'string') resolved.set(source.database, connection);
    else if (!missing.includes(connection.message)) missing.push(connection.message);
  }
  if (missing.length > 0) {
    const listed = missing.slice(0, 10).join('; ') + (missing.length > 10 ? `; and ${missing.length - 10} more` : '');
    throw new ScoreManyError('NO_CONNECTION', `${what}: ${listed}. Pass connections (a map, a record or a function from database name to a PostgreSQL connection string) to ${what} or to readSplit`);
  }
  return (database) => resolved.get(database) as string;
}
