// What detectDrift answers: one row per slice of the split, as columns (statistic, p-value, threshold, the
// decision and, for page-hinkley, when it fired), the slices it could not test, and the per-id views users
// ask for: drifted() for trainMany({ only }), get(id), and an Arrow table for a DataFrame or a writer.
import { Bool, Float64, Table, Utf8, vectorFromArray, makeVector } from 'apache-arrow';
import type { SliceFailure } from '../train-many/batch-records.js';
import type { DriftedModel } from '../store/drift-results.js';
import type { DriftMethod } from './drift-method.js';

export interface DriftRow {
  id: string;
  statistic: number;
  /** ks only: the uncorrected p-value. */
  pValue?: number;
  /** ks: the per-test alpha after Bonferroni correction; else the method's threshold on the statistic. */
  threshold: number;
  drifted: boolean;
  /** page-hinkley: the time of the value at which the alarm fired. */
  changeAt?: number;
}

export interface DriftColumns {
  group: string;
  version: number;
  method: DriftMethod;
  ids: string[];
  /** 1 where the slice was tested; failed slices' rows hold NaN and drifted 0. */
  ok: Uint8Array;
  statistic: Float64Array;
  pValue: Float64Array;
  threshold: Float64Array;
  drifted: Uint8Array;
  changeAt: Float64Array;
  failed: SliceFailure[];
  /** Per batch: the worker process and thread that ran it, and whether it read the group's files. */
  loads: Array<{ pid: number; thread: number; groupLoaded: boolean }>;
}

export class DriftResult {
  readonly group: string;
  readonly version: number;
  readonly method: DriftMethod;
  readonly failed: readonly SliceFailure[];
  readonly loads: DriftColumns['loads'];
  readonly #columns: DriftColumns;
  readonly #rowOf = new Map<string, number>();

  constructor(columns: DriftColumns) {
    this.group = columns.group;
    this.version = columns.version;
    this.method = columns.method;
    this.failed = columns.failed;
    this.loads = columns.loads;
    this.#columns = columns;
    columns.ids.forEach((id, row) => this.#rowOf.set(id, row));
  }

  /** Slices tested (failed ones excluded). */
  get tested(): number {
    return this.#columns.ids.length - this.failed.length;
  }

  /** The ids whose models drifted, in split order: what `trainMany({ only })` takes. */
  drifted(): string[] {
    return this.#columns.ids.filter((_, row) => this.#columns.drifted[row] === 1);
  }

  /** One slice's outcome, or undefined when it was not tested (see `failed`) or is not in the split. */
  get(id: string): DriftRow | undefined {
    const row = this.#rowOf.get(id);
    return row === undefined || this.#columns.ok[row] !== 1 ? undefined : this.#row(row);
  }

  /** The drifted models as the store records them. */
  driftedModels(): DriftedModel[] {
    const models: DriftedModel[] = [];
    this.#columns.ids.forEach((_, row) => {
      if (this.#columns.drifted[row] !== 1) return;
      const { id, statistic, pValue, threshold, changeAt } = this.#row(row);
      models.push({ id, statistic, threshold, ...(pValue === undefined ? {} : { pValue }), ...(changeAt === undefined ? {} : { changeAt }) });
    });
    return models;
  }

  /** Every tested slice as an Arrow table: id, statistic, p_value (null unless ks), threshold, drifted, change_at. */
  toArrow(): Table {
    const rows = this.#columns.ids.map((_, row) => row).filter((row) => this.#columns.ok[row] === 1);
    const c = this.#columns;
    const nullable = (values: Float64Array): (number | null)[] => rows.map((row) => (Number.isNaN(values[row] as number) ? null : (values[row] as number)));
    return new Table({
      id: vectorFromArray(rows.map((row) => c.ids[row] as string), new Utf8()),
      statistic: makeVector(Float64Array.from(rows, (row) => c.statistic[row] as number)),
      p_value: vectorFromArray(nullable(c.pValue), new Float64()),
      threshold: makeVector(Float64Array.from(rows, (row) => c.threshold[row] as number)),
      drifted: vectorFromArray(rows.map((row) => c.drifted[row] === 1), new Bool()),
      change_at: vectorFromArray(nullable(c.changeAt), new Float64()),
    });
  }

  #row(row: number): DriftRow {
    const c = this.#columns;
    const pValue = c.pValue[row] as number;
    const changeAt = c.changeAt[row] as number;
    return {
      id: c.ids[row] as string,
      statistic: c.statistic[row] as number,
      threshold: c.threshold[row] as number,
      drifted: c.drifted[row] === 1,
      ...(Number.isNaN(pValue) ? {} : { pValue }),
      ...(Number.isNaN(changeAt) ? {} : { changeAt }),
    };
  }
}
