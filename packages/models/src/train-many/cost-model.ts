// What a slice costs to train, estimated before any data is read, so slices can be packed into tasks of about
// `batchSeconds` of work. Only the order of magnitude matters: a task twice as long as planned still keeps
// per-task overhead small and the cluster busy. The per-family figures are what the built-ins take for each
// value fitted and scored (ar of order 8 on 720 values takes tens of microseconds); `bench:many` is where to
// check them against this machine.
import type { FamilySpec } from '../families/family-spec.js';
import type { SliceSource } from '../split/split.js';
import { MODELS_PER_CALL } from '../families/lstm/models-per-call.js';
import { isParquetFile } from './batch-wire.js';

type ReadKind = 'database' | 'parquet' | 'csv';

/** Nanoseconds to bring one value (with its time) from the source into the task. */
const READ_NS_PER_POINT: Record<ReadKind, number> = { database: 250, parquet: 20, csv: 120 };
/** A source's fixed cost in a batch: a query's round trip (and a connection), or a file's open and footer. */
const SOURCE_NS: Record<ReadKind, number> = { database: 3e6, parquet: 1e6, csv: 1e6 };
/** Per slice, beyond its values: cutting its ranges, the family's per-call setup, its row in the result. */
const SLICE_NS = 3_000;
/** A user-defined family is assumed slow: a batch that runs short costs little, one that runs long delays the end. */
const UNKNOWN_FAMILY_NS_PER_POINT = 500;

export function readKindOf(source: SliceSource): ReadKind {
  if (source.kind === 'database') return 'database';
  return isParquetFile(source.file) ? 'parquet' : 'csv';
}

/** Nanoseconds per value to fit and score with the family the spec names. */
export function fitNsPerPoint(spec: FamilySpec): number {
  if ('module' in spec) return UNKNOWN_FAMILY_NS_PER_POINT;
  switch (spec.family) {
    case 'ar':
      return 5 * (spec.params.p + 2);
    case 'arima':
      // Iterative: each Levenberg-Marquardt step passes over the series; about ten times an AR fit.
      return 50 * (spec.params.p + (spec.params.q ?? 0) + 2);
    case 'seasonal':
      // Medians and MADs per phase: a partial sort of each phase's values.
      return 80;
    case 'lstm':
      // Residuals over the training windows: one forward pass per value.
      return 8 * spec.params.window * spec.params.hidden * (spec.params.hidden + 1);
    default:
      return UNKNOWN_FAMILY_NS_PER_POINT;
  }
}

/** Nanoseconds per model that do not depend on its values: lstm's Adam steps over a fixed number of windows. */
export function fitNsPerModel(spec: FamilySpec): number {
  if ('module' in spec || spec.family !== 'lstm') return 0;
  const { window, hidden, steps = 300, batch = 32 } = spec.params;
  // Forward and backward through `window` LSTM steps of 4 gates, per window, per Adam step; batched matrix
  // products in onnxruntime reach a few GFLOP/s on one thread.
  return (steps * batch * window * 4 * hidden * (hidden + 1) * 2 * 3) / 4;
}

/**
 * The fewest slices a batch should hold: a family that trains many models in one call (lstm) wants a full
 * call's worth per task, however long that takes; the others train one model at a time.
 */
export function minSlicesPerBatch(spec: FamilySpec): number {
  return !('module' in spec) && spec.family === 'lstm' ? MODELS_PER_CALL : 1;
}

export interface SliceCosts {
  /** Seconds to read and train a slice of `points` values from a source of this kind. */
  slice(kind: ReadKind, points: number): number;
  /** Seconds a source adds to a batch that reads it. */
  source(kind: ReadKind): number;
}

export function sliceCosts(spec: FamilySpec): SliceCosts {
  const fit = fitNsPerPoint(spec);
  const perModel = SLICE_NS + fitNsPerModel(spec);
  return {
    slice: (kind, points) => (perModel + points * (fit + READ_NS_PER_POINT[kind])) / 1e9,
    source: (kind) => SOURCE_NS[kind] / 1e9,
  };
}
