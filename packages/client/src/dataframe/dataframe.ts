// The lazy, Arrow-native DataFrame: an ordered list of partition Delayed<Table>s. Every method returns a new
// DataFrame (or a lazy reduction) built from delayed calls; nothing runs until compute() or persist().
// A DataFrame<P> whose partitions are other values (mapPartitions returning them) computes to P[].
import type { Schema, Table } from 'apache-arrow';
import { concatTables } from '@loom/partitions';
import { Client } from '../client.js';
import { currentClient } from '../current-client.js';
import { delayed, type Delayed } from '../delayed.js';
import { functionEntry } from '../function-source.js';
import type { TaskOptions } from '../task-node.js';
import { assemblePartitions, emptyTable } from './assemble.js';
import {
  distinctSpec, reduceColumn, varianceSpec, type ColumnValue, type DistinctOptions, type ReduceOptions, type VarianceOptions,
} from './column-reductions.js';
import { ops } from './partition-ops.js';
import { treeReduce } from './reduce-tree.js';
import { planRepartition } from './repartition.js';
import { writeCsv, writeParquet, writeSql, type ToCsvOptions, type ToParquetOptions, type ToSqlOptions, type WriteSummary } from './writers.js';

/** A row as row-wise functions (filter, assign) see it: column name to value. */
export type Row = Record<string, unknown>;

export interface MapPartitionsOptions {
  /** The schema the function's tables have, when known (kept as `meta` on the result). */
  meta?: Schema;
  /** Task name prefix (default: the function's name). */
  name?: string;
  /** Extra arguments after the partition, e.g. values the function would otherwise close over. */
  args?: readonly unknown[];
}

export interface RepartitionOptions {
  npartitions: number;
}

export interface ComputeOptions {
  /** How many partitions are fetched from the workers at once (default 4). */
  window?: number;
}

/**
 * What compute() resolves to: one Table when the partitions are tables, else their values in partition order.
 * Partitions typed `unknown` may be either, so compute() of such a frame is typed as either.
 */
export type Computed<P> = [P] extends [Table] ? Table : [Table] extends [P] ? Table | Exclude<P, Table>[] : P[];

export class DataFrame<P = Table> {
  /** The partitions in order, for users who want delayed-level control. */
  readonly partitions: readonly Delayed<P>[];
  /** The partitions' schema when known at planning time (fromArrow, mapPartitions with meta). */
  readonly meta: Schema | undefined;

  constructor(partitions: readonly Delayed<P>[], meta?: Schema) {
    this.partitions = Object.freeze([...partitions]);
    this.meta = meta;
  }

  get npartitions(): number {
    return this.partitions.length;
  }

  /** True when every partition lives on the workers (the result of persist()). */
  get persisted(): boolean {
    return this.partitions.length > 0 && this.partitions.every((partition) => partition.persisted);
  }

  /**
   * Applies `fn` to every partition on the workers. `fn` travels as source text, so it must not use variables
   * from around it (FREE_VARIABLE): pass them in `options.args`. It may return a Table (a DataFrame of tables)
   * or any other value (a DataFrame<R>, whose compute() gives the values in partition order).
   */
  mapPartitions<A extends unknown[], R>(
    this: DataFrame<Table>,
    fn: (table: Table, ...args: A) => R,
    options: MapPartitionsOptions & { args?: A } = {},
  ): DataFrame<Awaited<R>> {
    const taskOptions: TaskOptions = options.name === undefined ? {} : { name: options.name };
    const apply = delayed(fn as (table: Table, ...args: unknown[]) => unknown, taskOptions);
    const extra = options.args ?? [];
    return new DataFrame(
      this.partitions.map((partition) => apply(partition, ...extra) as Delayed<Awaited<R>>),
      options.meta,
    );
  }

  /** Keeps the rows for which `predicate(row)` is truthy; the predicate travels as source text. */
  filter<R extends object = Row>(this: DataFrame<Table>, predicate: (row: R) => unknown): DataFrame {
    const source = rowFunctionSource(predicate, 'filter');
    return new DataFrame(this.partitions.map((partition) => ops.filterRows(partition, source)), this.meta);
  }

  /** Only these columns, in this order. */
  select(this: DataFrame<Table>, columns: readonly string[]): DataFrame {
    if (columns.length === 0) throw new RangeError('select needs at least one column');
    const names = [...columns];
    const meta = this.meta ? selectSchema(this.meta, names) : undefined;
    return new DataFrame(this.partitions.map((partition) => ops.selectColumns(partition, names)), meta);
  }

  /** Adds (or replaces) columns computed per row: `assign({ c: (row) => row.a * 2 })`. */
  assign<R extends object = Row>(this: DataFrame<Table>, columns: Record<string, (row: R) => unknown>): DataFrame {
    const names = Object.keys(columns);
    if (names.length === 0) throw new RangeError('assign needs at least one column');
    const sources: Record<string, string> = {};
    for (const name of names) sources[name] = rowFunctionSource(columns[name] as (row: R) => unknown, `assign '${name}'`);
    return new DataFrame(this.partitions.map((partition) => ops.assignColumns(partition, sources)));
  }

  /** The first `n` rows, read from as few leading partitions as needed. */
  head(this: DataFrame<Table>, n = 5): HeadResult {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`head needs a non-negative integer, got ${n}`);
    return new HeadResult(this.partitions, n, this.meta);
  }

  /** The number of rows: countRows per partition, summed by a tree of sumNumbers. A Delayed<number>. */
  count(this: DataFrame<Table>, options: ReduceOptions = {}): Delayed<number> {
    return treeReduce(this.partitions.map((partition) => ops.countRows(partition)), ops.sumNumbers, ops.sumNumbers, options);
  }

  /**
   * The sum of a column, nulls and NaN skipped: a bigint for integer and bool columns (exact at any size), a
   * number for float columns; 0 (0n for integers) when there is no value. Text and timestamps are refused.
   */
  sum(this: DataFrame<Table>, column: string, options: ReduceOptions = {}): Delayed<number | bigint> {
    return reduceColumn(this.partitions, this.meta, { op: 'sum', column }, options);
  }

  /** The mean of a numeric column (integers from their exact sum), nulls and NaN skipped; null when there is no value. */
  mean(this: DataFrame<Table>, column: string, options: ReduceOptions = {}): Delayed<number | null> {
    return reduceColumn(this.partitions, this.meta, { op: 'mean', column }, options);
  }

  /** The smallest value (numbers, bigints, text by code point, booleans, timestamps as epoch ms); null when none. */
  min(this: DataFrame<Table>, column: string, options: ReduceOptions = {}): Delayed<ColumnValue | null> {
    return reduceColumn(this.partitions, this.meta, { op: 'min', column }, options);
  }

  /** The largest value, as min() reads them; null when none. */
  max(this: DataFrame<Table>, column: string, options: ReduceOptions = {}): Delayed<ColumnValue | null> {
    return reduceColumn(this.partitions, this.meta, { op: 'max', column }, options);
  }

  /** The variance (divisor count - ddof, ddof 1 by default), nulls and NaN skipped; null when count <= ddof. */
  var(this: DataFrame<Table>, column: string, options: VarianceOptions = {}): Delayed<number | null> {
    return reduceColumn(this.partitions, this.meta, varianceSpec('var', column, options), options);
  }

  /** The standard deviation: the square root of var() with the same options. */
  std(this: DataFrame<Table>, column: string, options: VarianceOptions = {}): Delayed<number | null> {
    return reduceColumn(this.partitions, this.meta, varianceSpec('std', column, options), options);
  }

  /** How many distinct values the column holds (nulls and NaN left out unless dropna is false). */
  nunique(this: DataFrame<Table>, column: string, options: DistinctOptions = {}): Delayed<number> {
    return reduceColumn(this.partitions, this.meta, distinctSpec('nunique', column, options), options);
  }

  /**
   * Each distinct value with how often it occurs: an Arrow table { value, count: Int64 }, most frequent first,
   * ties in order of first appearance; nulls and NaN left out unless dropna is false.
   */
  valueCounts(this: DataFrame<Table>, column: string, options: DistinctOptions = {}): Delayed<Table> {
    return reduceColumn(this.partitions, this.meta, distinctSpec('valueCounts', column, options), options);
  }

  /**
   * Fewer partitions: adjacent partitions are concatenated. More: each partition is split into row ranges of
   * near-equal size (its row count is a task every piece depends on, so nothing runs now).
   */
  repartition(this: DataFrame<Table>, options: RepartitionOptions): DataFrame {
    const plan = planRepartition(this.partitions.length, options.npartitions);
    const partitions = plan.map((output) => {
      if (output.kind === 'concat') {
        const inputs = output.inputs.map((index) => this.partitions[index] as Delayed<Table>);
        return inputs.length === 1 ? (inputs[0] as Delayed<Table>) : ops.concatTables(inputs);
      }
      const input = this.partitions[output.input] as Delayed<Table>;
      if (output.pieces === 1) return input;
      const rows = ops.countRows(input);
      const piece = ops.sliceRows(input, ops.pieceOffset(rows, output.piece, output.pieces), ops.pieceOffset(rows, output.piece + 1, output.pieces));
      return output.piece === 0 ? piece : ops.withoutSkippedRows(piece);
    });
    return new DataFrame(partitions, this.meta);
  }

  /**
   * Runs every partition as one graph, fetching a bounded window of partitions at a time. Tables are
   * assembled into one Table on the client (rows a reader skipped, `onBadLines: 'skip'`, are summed into its
   * `loom.skipped_rows` metadata); other values come back as an array in partition order. Tables from some
   * partitions and other values from others is an error naming the first partition that differs.
   */
  async compute(client?: Client, options: ComputeOptions = {}): Promise<Computed<P>> {
    if (this.partitions.length === 0) return emptyTable(this.meta) as Computed<P>;
    return (await assemblePartitions(resolveClient(client), this.partitions, options.window ?? 4)) as Computed<P>;
  }

  /**
   * Writes each partition as `dir/part-NNNNN.parquet`, on the workers (one task per partition); each file is
   * written under a hidden temporary name and renamed into place. A directory that is not empty is refused
   * unless `overwrite`, which removes its old contents once every new file is in place.
   */
  async toParquet(this: DataFrame<Table>, dir: string, options: ToParquetOptions = {}): Promise<WriteSummary> {
    return writeParquet(resolveClient(options.client), this.partitions, this.meta, dir, options);
  }

  /** Writes each partition as `dir/part-NNNNN.csv` with a header, RFC 4180 quoting; as toParquet otherwise. */
  async toCsv(this: DataFrame<Table>, dir: string, options: ToCsvOptions = {}): Promise<WriteSummary> {
    return writeCsv(resolveClient(options.client), this.partitions, this.meta, dir, options);
  }

  /**
   * Writes the rows into PostgreSQL table `table` with COPY: each partition into a staging table of its own,
   * then all of them into the table in one transaction, so the table gains every row once or none.
   */
  async toSql(this: DataFrame<Table>, table: string, options: ToSqlOptions): Promise<WriteSummary> {
    return writeSql(resolveClient(options.client), this.partitions, this.meta, table, options);
  }

  /** Starts computing every partition; resolves to a DataFrame whose partitions stay in worker memory. */
  async persist(client?: Client): Promise<DataFrame<P>> {
    const kept = await resolveClient(client).persistDelayed(this.partitions);
    return new DataFrame(kept as Delayed<P>[], this.meta);
  }

  /** Frees persisted partitions on the cluster (no-op for partitions that are not persisted). */
  release(): void {
    for (const partition of this.partitions) partition.release();
  }

  toString(): string {
    return `DataFrame<${this.partitions.length} partitions${this.persisted ? ', persisted' : ''}>`;
  }
}

/** head(n): computes headRows on one leading partition after another until it has n rows. */
export class HeadResult {
  readonly #partitions: readonly Delayed<Table>[];
  readonly #n: number;
  readonly #meta: Schema | undefined;

  constructor(partitions: readonly Delayed<Table>[], n: number, meta: Schema | undefined) {
    this.#partitions = partitions;
    this.#n = n;
    this.#meta = meta;
  }

  async compute(client?: Client): Promise<Table> {
    const runner = resolveClient(client);
    const tables: Table[] = [];
    let remaining = this.#n;
    for (const partition of this.#partitions) {
      if (remaining === 0 && tables.length > 0) break;
      const [head] = (await runner.computeDelayed([ops.headRows(partition, remaining)])) as [Table];
      tables.push(head);
      remaining -= Math.min(remaining, head.numRows);
    }
    if (tables.length === 0) return emptyTable(this.#meta);
    return tables.length === 1 ? (tables[0] as Table) : concatTables(tables);
  }
}

function resolveClient(client: Client | undefined): Client {
  const resolved = client ?? currentClient();
  if (!(resolved instanceof Client)) throw new TypeError('DataFrame.compute needs a Client (Client.connect(address))');
  return resolved;
}

/** The checked source of a row function: FREE_VARIABLE when it uses variables from around it. */
function rowFunctionSource(fn: unknown, what: string): string {
  if (typeof fn !== 'function') throw new TypeError(`${what} needs a function of a row, got ${typeof fn}`);
  const source = functionEntry(fn as (row: Row) => unknown).def.source;
  if (typeof source !== 'string') throw new TypeError(`${what} needs a function given inline, not a module reference`);
  return source;
}

function selectSchema(schema: Schema, names: readonly string[]): Schema | undefined {
  const available = new Set(schema.fields.map((field) => field.name));
  return names.every((name) => available.has(name)) ? schema.select([...names]) : undefined;
}
