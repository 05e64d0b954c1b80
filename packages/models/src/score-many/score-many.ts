// scoreMany: every slice's test range scored with its stored model, as a lazy DataFrame of Arrow partitions
// (one per batch: rows id, ts, value, forecast, lower, upper, anomaly, score). Batches are trainMany's (one
// read per source per batch); each is one scoreBatch task that takes the group from its worker process's
// shared cache. Nothing runs until the frame is computed or written.
import { Table, type Schema } from 'apache-arrow';
import { dataframe, delayed, type Client, type Delayed } from '@loom/client';
import { concatTables } from '@loom/partitions';
import type { SliceFailure } from '../train-many/batch-records.js';
import { ScoreManyError } from './errors.js';
import { planModelRun, type ModelRunOptions } from './model-batches.js';
import { SCORE_BATCH, SCORE_FAILURES_KEY, SCORE_STATS_KEY, type ModelBatchStats } from './score-wire.js';
import { scoreSchema } from '../tasks/score-table.js';

export type ScoreManyOptions = ModelRunOptions;

/** What one score partition reports about its batch: the counters of its task, and its slices. */
export interface ScoreBatchStats extends ModelBatchStats {
  slices: number;
  scored: number;
  rowsOut: number;
}

const scoreBatchOp = delayed(SCORE_BATCH, { name: 'score-batch', retries: 1 }) as (spec: unknown) => Delayed<Table>;

export function scoreMany(client: Client, options: ScoreManyOptions): ScoreFrame {
  const run = planModelRun('scoreMany', options);
  const kinds = new Set(options.split.slices.map((slice) => slice.rangeKind));
  if (kinds.size > 1) throw new ScoreManyError('BAD_OPTIONS', 'scoreMany: the split mixes timestamp and numeric ranges; the output has one ts column, so score them as two splits');
  const rangeKind = kinds.has('number') ? 'number' : 'timestamp';
  const partitions = run.batches.map((batch) => scoreBatchOp({ ...run.spec(batch), rangeKind }));
  return new ScoreFrame(partitions, scoreSchema(rangeKind), client);
}

/**
 * The DataFrame scoreMany returns. It is a DataFrame of Arrow tables like any other (filter, select, head,
 * reductions, the writers), and its compute() also gathers every partition's failed slices into the result's
 * schema metadata, where scoreFailures() reads them.
 */
export class ScoreFrame extends dataframe.DataFrame<Table> {
  readonly #client: Client;

  constructor(partitions: readonly Delayed<Table>[], meta: Schema, client: Client) {
    super(partitions, meta);
    this.#client = client;
  }

  /** One table of every scored row; its metadata lists the failed slices of all batches (scoreFailures). */
  override async compute(client: Client = this.#client, options: dataframe.ComputeOptions = {}): Promise<Table> {
    const window = options.window ?? 4;
    if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
    if (this.partitions.length === 0) return new Table(this.meta as Schema);
    const futures = client.compute(this.partitions);
    const tables: Table[] = [];
    try {
      for (let start = 0; start < futures.length; start += window) {
        const batch = futures.slice(start, start + window);
        tables.push(...((await client.gather(batch)) as Table[]));
        for (const future of batch) future.release();
      }
    } finally {
      for (const future of futures) future.release();
    }
    const table = concatTables(tables);
    const failures = tables.flatMap(scoreFailures);
    const stats = tables.flatMap(scoreStats);
    table.schema.metadata.set(SCORE_FAILURES_KEY, JSON.stringify(failures));
    table.schema.metadata.set(SCORE_STATS_KEY, JSON.stringify(stats));
    return table;
  }
}

/** What the writers return; its partitions carry each score partition's metadata. */
type WriteSummary = dataframe.WriteSummary;

/**
 * The slices a score run could not score, with reasons: from a score table (a partition, or
 * ScoreFrame.compute()'s result) or from what a writer returned (`await scores.toParquet(dir)`).
 */
export function scoreFailures(source: Table | WriteSummary): SliceFailure[] {
  return metadataOf(source).flatMap((metadata) => parsed<SliceFailure[]>(metadata, SCORE_FAILURES_KEY) ?? []);
}

/** The task counters behind a score table or a write: one entry per batch, or a partition's own. */
export function scoreStats(source: Table | WriteSummary): ScoreBatchStats[] {
  return metadataOf(source).flatMap((metadata) => {
    const stats = parsed<ScoreBatchStats | ScoreBatchStats[]>(metadata, SCORE_STATS_KEY);
    return stats === undefined ? [] : Array.isArray(stats) ? stats : [stats];
  });
}

function metadataOf(source: Table | WriteSummary): ReadonlyMap<string, string>[] {
  if (source instanceof Table) return [source.schema.metadata];
  return source.partitions.map((partition) => new Map(Object.entries(partition.metadata ?? {})));
}

function parsed<T>(metadata: ReadonlyMap<string, string>, key: string): T | undefined {
  const text = metadata.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}
