// Packing a split's slices into training batches. Slices are taken source by source (split.sources(): same
// database and table, or same file) and packed into batches of about the target cost, so a batch reads each
// of its sources once; a source too big for one batch is cut into pieces, each read by its own batch (only
// the columns and ranges its slices need). The plan depends only on the inputs, never on the cluster, so a
// re-run of the same call plans the same batches with the same keys and can skip the ones already stored.
import { createHash } from 'node:crypto';
import type { Split, SplitSlice } from '../split/split.js';
import type { FamilySpec } from '../families/family-spec.js';
import { minSlicesPerBatch, readKindOf, sliceCosts } from './cost-model.js';

export interface PlannedBatch {
  /** Derived from the family key, the time column, each source and each slice's id, column and ranges. */
  key: string;
  /** Slices grouped by source: the slices of one source are contiguous. */
  slices: SplitSlice[];
  /** Estimated seconds of work. */
  cost: number;
}

export interface PlanOptions {
  family: FamilySpec;
  familyKey: string;
  timeColumn: string;
  /** Target seconds of work per batch (the largest; a small run is cut finer, see MIN_BATCHES). */
  batchSeconds: number;
  /** Values a slice of average range width is taken to have (train and test together). */
  pointsPerSlice: number;
}

/** A run cut into at least this many batches when it is big enough, so a small run still spreads out. */
const MIN_BATCHES = 8;
/** Below this a task's fixed costs (scheduling, a round trip, a store write) would dominate it. */
const MIN_BATCH_SECONDS = 0.02;
/** A bound on a batch's result and on the data one task holds, whatever the estimates say. */
export const MAX_SLICES_PER_BATCH = 50_000;
const KEY_FORMAT = 'loom.trainMany.batch/1';

export function planBatches(split: Split, options: PlanOptions): PlannedBatch[] {
  const costs = sliceCosts(options.family);
  const fewest = minSlicesPerBatch(options.family);
  const meanWidth = split.slices.reduce((sum, slice) => sum + width(slice), 0) / Math.max(1, split.size);
  const pointsOf = (slice: SplitSlice): number => (meanWidth > 0 ? (options.pointsPerSlice * width(slice)) / meanWidth : options.pointsPerSlice);

  // Pieces: whole sources, or a big source cut into even runs of slices, each with its estimated cost.
  const pieces: Array<{ slices: SplitSlice[]; cost: number }> = [];
  let total = 0;
  const sources = split.sources().map((group) => {
    const kind = readKindOf(group.source);
    const sliceCost = group.slices.map((slice) => costs.slice(kind, pointsOf(slice)));
    const cost = costs.source(kind) + sliceCost.reduce((sum, c) => sum + c, 0);
    total += cost;
    return { group, kind, sliceCost, cost };
  });
  const target = Math.min(options.batchSeconds, Math.max(MIN_BATCH_SECONDS, total / MIN_BATCHES));
  for (const { group, kind, sliceCost, cost } of sources) {
    const n = group.slices.length;
    const parts = Math.max(1, Math.min(Math.ceil(cost / target), Math.floor(n / fewest)), Math.ceil(n / MAX_SLICES_PER_BATCH));
    for (let part = 0; part < parts; part++) {
      const start = Math.floor((part * n) / parts);
      const end = Math.floor(((part + 1) * n) / parts);
      let pieceCost = costs.source(kind);
      for (let i = start; i < end; i++) pieceCost += sliceCost[i] as number;
      pieces.push({ slices: group.slices.slice(start, end), cost: pieceCost });
    }
  }

  const batches: PlannedBatch[] = [];
  let current: SplitSlice[] = [];
  let currentCost = 0;
  const flush = (): void => {
    if (current.length === 0) return;
    batches.push({ key: batchKey(current, options), slices: current, cost: currentCost });
    current = [];
    currentCost = 0;
  };
  for (const piece of pieces) {
    const full = current.length >= fewest && currentCost + piece.cost > target;
    if (current.length > 0 && (full || current.length + piece.slices.length > MAX_SLICES_PER_BATCH)) flush();
    for (const slice of piece.slices) current.push(slice);
    currentCost += piece.cost;
  }
  flush();
  return batches;
}

function width(slice: SplitSlice): number {
  return slice.trainRange.to - slice.trainRange.from + (slice.testRange.to - slice.testRange.from);
}

function batchKey(slices: readonly SplitSlice[], options: PlanOptions): string {
  const hash = createHash('sha256');
  hash.update(`${KEY_FORMAT}\0${options.familyKey}\0${options.timeColumn}\0`);
  let source = '';
  for (const slice of slices) {
    if (slice.sourceKey !== source) {
      source = slice.sourceKey;
      hash.update(`\u0001${source}\0`);
    }
    const { trainRange: train, testRange: test } = slice;
    hash.update(`${slice.id}\0${slice.column ?? ''}\0${train.from}\0${train.to}\0${test.from}\0${test.to}\n`);
  }
  return `batch-${hash.digest('hex').slice(0, 40)}`;
}
