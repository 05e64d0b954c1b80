// trainMany: one model per slice of a split, trained on a Loom cluster and published as a new version of a
// group in a model store. Slices are packed into batches by source (plan-batches.ts); each batch is one task
// (trainBatch in @loom/models/tasks) that reads its sources once and answers with columns; a bounded window of
// batches is in flight, and each finished batch is staged in the store under its key as it arrives. A re-run
// of the same call after a crash resumes the stage and runs only the batches it lacks.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Client } from '@loom/client';
import { familySpec, type FamilySpec } from '../families/family-spec.js';
import type { ModelFamily } from '../families/family.js';
import { resolveSources, type Connections } from '../split/resolve-sources.js';
import { Split } from '../split/split.js';
import { ModelStore } from '../store/model-store.js';
import { stageDir } from '../store/store-layout.js';
import type { ModelWriter } from '../store/model-writer.js';
import { batchModels, type SliceFailure } from './batch-records.js';
import { batchSpec, type SpecContext } from './batch-spec.js';
import { runWindowed } from './batch-window.js';
import { TRAIN_BATCH, type BatchResult } from './batch-wire.js';
import { TrainManyError } from './errors.js';
import { FailureJournal, JOURNAL_FILE } from './failure-journal.js';
import { planBatches, type PlannedBatch } from './plan-batches.js';
import { RunTally, type MetricsSummary, type RunWork, type TrainProgress } from './run-tally.js';

/** What trainMany needs of a client: submitting tasks, and the cluster's size for the default window. */
export type TrainClient = Pick<Client, 'submitWith' | 'schedulerInfo'>;

export interface TrainManyOptions {
  split: Split;
  /** A built-in family (ar, arima, seasonal) or one from loadFamily: it is rebuilt from its spec on the workers. */
  family: ModelFamily;
  store: ModelStore;
  group: string;
  /** Database name to PostgreSQL connection string; default: the connections readSplit was given. */
  connections?: Connections;
  /** Called after each finished batch (and once at the start of a resumed run). */
  onProgress?: (progress: TrainProgress) => void;
  /** Train only these slices; the group's other models are carried forward unchanged from its current version. */
  only?: Iterable<string>;
  /** The time column of every source; default the split's (readSplit's `timeColumn`, 'ts'). */
  timeColumn?: string;
  /** Target seconds of work per task (default 0.5); a small run is cut finer so it spreads over the cluster. */
  batchSeconds?: number;
  /** Batches in flight at once (default 3 per worker thread): bounds the client's memory, keeps workers fed. */
  window?: number;
  /** Values a slice of average range width is expected to hold, for sizing batches (default 720). */
  pointsPerSlice?: number;
  /**
   * Recorded in the published version's manifest `meta` beside trainMany's own entry, e.g. the id of the job
   * that ran it, so that a second run of that job can find the version instead of publishing another.
   */
  meta?: Record<string, unknown>;
}

export interface TrainManyResult {
  group: string;
  version: number;
  /** Models trained by this run (with the batches of a crashed run it resumed). */
  trained: number;
  /** Models carried forward unchanged from the group's previous current version (`only`). */
  carried: number;
  /** Every slice that was not trained, with its reason. */
  failed: SliceFailure[];
  seconds: number;
  batches: { total: number; resumed: number; ran: number };
  metrics: MetricsSummary;
  work: RunWork;
}

const DEFAULT_BATCH_SECONDS = 0.5;
const DEFAULT_POINTS_PER_SLICE = 720;
const WINDOW_PER_THREAD = 3;
/** Failed slices the version's manifest lists (all of them are in the run's result). */
const MANIFEST_FAILURES = 10_000;

export async function trainMany(client: TrainClient, options: TrainManyOptions): Promise<TrainManyResult> {
  const started = performance.now();
  const checked = checkOptions(options);
  const { family, store, group, onProgress } = options;
  const spec = familySpec(family);
  const familyKey = family.key();
  const only = options.only === undefined ? undefined : [...options.only];
  if (only?.length === 0) throw new TrainManyError('BAD_OPTIONS', 'trainMany: only names no slice (leave it out to train them all)');
  const split = only === undefined ? options.split : options.split.select(only);
  const timeColumn = options.timeColumn ?? split.timeColumn;
  const context: SpecContext = { family: spec, familyKey, timeColumn, connectionOf: await connectionsOf(split, options.connections) };
  const batches = planBatches(split, { family: spec, familyKey, timeColumn, batchSeconds: checked.batchSeconds, pointsPerSlice: checked.pointsPerSlice });

  const writer = await store.writer(group, { stage: stageName(group, familyKey, only !== undefined, batches), resume: true });
  let journal: FailureJournal | undefined;
  try {
    journal = await FailureJournal.open(join(stageDir(store.dir, group, writer.stage), JOURNAL_FILE));
    if (only !== undefined && (await store.current(group)) !== undefined) await writer.carryForward('current');
    const tally = new RunTally(split.size, batches.length);
    const failed: SliceFailure[] = [];
    const pending: PlannedBatch[] = [];
    for (const batch of batches) {
      if (writer.hasBatch(batch.key) || journal.allFailed(batch.key, batch.slices.length)) {
        const failures = journal.failures(batch.key) ?? [];
        for (const failure of failures) failed.push(failure);
        tally.resumed(batch.slices.length, failures.length);
      } else {
        pending.push(batch);
      }
    }
    if (pending.length < batches.length) onProgress?.(tally.progress());

    const window = checked.window ?? (await defaultWindow(client));
    const stageBatch = async (batch: PlannedBatch, result: BatchResult): Promise<void> => {
      const { models, failures } = batchModels(batch, result, familyKey);
      const writing = performance.now();
      // Failures first: once the models are staged, the batch counts as done and is never run again.
      if (failures.length > 0) await (journal as FailureJournal).record(batch.key, batch.slices.length, failures);
      if (models.rows.length > 0) await writer.writeColumns(batch.key, models);
      tally.work.storeSeconds += (performance.now() - writing) / 1000;
      for (const failure of failures) failed.push(failure);
      tally.ran(result);
      onProgress?.(tally.progress(batch.key));
    };
    await runWindowed(pending, window, async (batch) => stageBatch(batch, await runBatch(client, batch, context)));
    await journal.close();

    const trained = split.size - failed.length;
    if (trained === 0) {
      await writer.abort();
      const first = failed.slice(0, 5).map((f) => `${f.id}: ${f.code}: ${f.error}`).join('; ');
      throw new TrainManyError('NOTHING_TRAINED', `all ${split.size} slices failed, nothing was published (${first}${failed.length > 5 ? '; ...' : ''})`);
    }
    const publishing = performance.now();
    const manifest = await writer.publish({ meta: { ...options.meta, trainMany: manifestMeta(spec, familyKey, timeColumn, split, only !== undefined, batches.length, failed) } });
    tally.work.publishSeconds = (performance.now() - publishing) / 1000;
    tally.work.storeSeconds += tally.work.publishSeconds;
    return {
      group,
      version: manifest.version,
      trained: manifest.models - manifest.carried,
      carried: manifest.carried,
      failed,
      seconds: (performance.now() - started) / 1000,
      batches: { total: batches.length, resumed: batches.length - pending.length, ran: pending.length },
      metrics: tally.metrics(),
      work: tally.work,
    };
  } catch (error) {
    await journal?.close().catch(() => undefined);
    // What is staged stays, for a re-run to resume (a published or aborted writer ignores this).
    await writer.close();
    throw error;
  }
}

/** Runs one batch as a task and returns its result; a task that fails (after its retry) fails the run. */
async function runBatch(client: TrainClient, batch: PlannedBatch, context: SpecContext): Promise<BatchResult> {
  const spec = batchSpec(batch, context);
  // A random key: a batch re-run after a failed run must not meet the failed task's key on the scheduler.
  const future = client.submitWith<BatchResult>({ name: 'train-batch', pure: false, retries: 1 }, TRAIN_BATCH, spec);
  try {
    return await future.result();
  } catch (error) {
    const sources = spec.sources.map(({ source }) => (source.kind === 'file' ? source.file : `${source.database}.${source.table}`));
    const named = sources.length > 3 ? `${sources.slice(0, 3).join(', ')} and ${sources.length - 3} more` : sources.join(', ');
    throw new TrainManyError(
      'BATCH_FAILED',
      `batch ${batch.key} (${batch.slices.length} slices of ${named}) failed: ${error instanceof Error ? error.message : String(error)}. ` +
        'The batches finished before it are staged: run trainMany again with the same arguments to resume.',
      { cause: error },
    );
  } finally {
    future.release();
  }
}

interface CheckedOptions {
  batchSeconds: number;
  pointsPerSlice: number;
  window: number | undefined;
}

function checkOptions(options: TrainManyOptions): CheckedOptions {
  const bad = (message: string): never => {
    throw new TrainManyError('BAD_OPTIONS', `trainMany: ${message}`);
  };
  if (!(options?.split instanceof Split)) bad('split must be a Split (from readSplit)');
  if (!(options.store instanceof ModelStore)) bad('store must be a ModelStore (from ModelStore.open)');
  if (typeof options.family?.key !== 'function') bad('family must be a model family (ar(), arima(), seasonal() or loadFamily())');
  if (typeof options.group !== 'string') bad('group must be a string');
  if (options.timeColumn !== undefined && (typeof options.timeColumn !== 'string' || options.timeColumn === '')) bad('timeColumn must be a non-empty string');
  const positive = (value: number | undefined, name: string, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) bad(`${name} must be a positive number, got ${String(value)}`);
    return value;
  };
  const window = options.window;
  if (window !== undefined && !(Number.isSafeInteger(window) && window >= 1)) bad(`window must be a positive integer, got ${String(window)}`);
  return {
    batchSeconds: positive(options.batchSeconds, 'batchSeconds', DEFAULT_BATCH_SECONDS),
    pointsPerSlice: positive(options.pointsPerSlice, 'pointsPerSlice', DEFAULT_POINTS_PER_SLICE),
    window,
  };
}

/**
 * The connection string of each database the split names: from `connections` when given, else from readSplit's.
 * A database without one stops the run before any work starts, naming every such database.
 */
async function connectionsOf(split: Split, connections: Connections | undefined): Promise<(database: string) => string> {
  const firstRowOf = new Map<string, { row: number; id: string; connection: string | undefined }>();
  for (const slice of split.slices) {
    if (slice.source.kind === 'database' && !firstRowOf.has(slice.source.database)) {
      firstRowOf.set(slice.source.database, { row: slice.row, id: slice.id, connection: slice.source.connection });
    }
  }
  let resolved = new Map<string, string>();
  const missing: string[] = [];
  if (connections !== undefined) {
    const rows = [...firstRowOf].map(([database, { row, id }]) => ({ rows: [row], ids: [id], database }));
    const found = await resolveSources(rows, connections);
    resolved = found.connections;
    for (const problem of found.problems) missing.push(problem.message);
  } else {
    for (const [database, { connection }] of firstRowOf) {
      if (connection === undefined) missing.push(`no connection string for database ${JSON.stringify(database)}`);
      else resolved.set(database, connection);
    }
  }
  if (missing.length > 0) {
    const listed = missing.slice(0, 10).join('; ') + (missing.length > 10 ? `; and ${missing.length - 10} more` : '');
    throw new TrainManyError('NO_CONNECTION', `trainMany: ${listed}. Pass connections (a map, a record or a function from database name to a PostgreSQL connection string) to trainMany or to readSplit`);
  }
  return (database) => {
    const connection = resolved.get(database);
    if (connection === undefined) throw new TrainManyError('NO_CONNECTION', `no connection string for database ${JSON.stringify(database)}`);
    return connection;
  };
}

function stageName(group: string, familyKey: string, subset: boolean, batches: readonly PlannedBatch[]): string {
  const hash = createHash('sha256').update(`loom.trainMany.stage/1\0${group}\0${familyKey}\0${subset ? 'only' : 'all'}\0`);
  for (const batch of batches) hash.update(`${batch.key}\n`);
  return `train-${hash.digest('hex').slice(0, 40)}`;
}

async function defaultWindow(client: TrainClient): Promise<number> {
  const info = await client.schedulerInfo();
  const threads = info.workers.reduce((sum, worker) => sum + worker.nthreads, 0);
  return Math.max(2, WINDOW_PER_THREAD * threads);
}

function manifestMeta(spec: FamilySpec, familyKey: string, timeColumn: string, split: Split, subset: boolean, batches: number, failed: readonly SliceFailure[]): Record<string, unknown> {
  return {
    family: spec,
    familyKey,
    timeColumn,
    split: { origin: split.origin, slices: split.size },
    only: subset,
    batches,
    failed: failed.length,
    failures: failed.slice(0, MANIFEST_FAILURES),
  };
}
