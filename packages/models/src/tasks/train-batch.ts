// trainBatch: one training task of trainMany. It rebuilds the family from its spec (once per task thread), reads
// each source of the batch once (the next sources' reads start while the current one is fitted), cuts each
// slice's train and test ranges out of its source's columns by binary search (views, no copies) and fits and
// scores them with evaluateMany, or with the family's batched trainer over the whole batch when it has one. A
// slice that cannot be read or fit becomes a failed row with its reason; only a malformed batch or a family
// that does not rebuild fails the task.
import { evaluateManyBatched, fitColumns, type Slice } from '../families/evaluate.js';
import type { ModelFamily } from '../families/family.js';
import { formatRangeValue } from '../split/range-value.js';
import type { BatchResult, BatchSourceSpec, BatchSpec, BatchStats } from '../train-many/batch-wire.js';
import { TrainManyError } from '../train-many/errors.js';
import { forEachSource } from './batch-sources.js';
import { isProblem, lowerBound, type SourceRead } from './source-data.js';
import { failureColumns, type RowFailure } from './row-failures.js';
import { threadFamily } from './thread-families.js';


export async function trainBatch(spec: BatchSpec): Promise<BatchResult> {
  checkSpec(spec);
  const family = await familyOf(spec);
  const result = emptyResult(family, spec.columnOf.length);
  const failures: RowFailure[] = [];
  const stats: BatchStats = { queries: 0, scans: 0, rows: 0, readMs: 0, fitMs: 0 };
  const cut: Cut = { slices: [], rows: [] };
  await forEachSource(spec, stats, async (source, data) => {
    const fitStarted = performance.now();
    cutSlices(spec, source, data, cut, failures);
    // A family with a batched trainer (lstm: many networks per onnxruntime call) gets the whole batch at once;
    // the others fit source by source, while the next sources are being read.
    if (family.fitBatch === undefined) await evaluateInto(family, cut, result, failures);
    stats.fitMs += performance.now() - fitStarted;
  });
  const fitStarted = performance.now();
  await evaluateInto(family, cut, result, failures);
  stats.fitMs += performance.now() - fitStarted;
  return { ...result, ...failureColumns(failures), stats };
}

async function familyOf(spec: BatchSpec): Promise<ModelFamily> {
  const resolved = await threadFamily(spec.family);
  if (resolved.key() !== spec.familyKey) {
    throw new TrainManyError('BAD_BATCH', `the family rebuilt on this worker is ${resolved.key()}, the client's is ${spec.familyKey}: does the family's module differ between the machines?`);
  }
  return resolved;
}

/** The slices of one source (rows [first, first + count) of the batch) cut out of its data, or their failures. */
function cutSlices(spec: BatchSpec, source: BatchSourceSpec, data: SourceRead, cut: Cut, failures: RowFailure[]): void {
  const { first, count } = source;
  if (isProblem(data)) {
    for (let row = first; row < first + count; row++) failures.push([row, data.code, data.message]);
    return;
  }
  const { times } = data;
  for (let row = first; row < first + count; row++) {
    const column = data.columns[spec.columnOf[row] as number];
    if (column === undefined) throw new TrainManyError('BAD_BATCH', `batch row ${row} names column ${spec.columnOf[row]} of a source with ${source.columns.length}`);
    if (isProblem(column)) {
      failures.push([row, column.code, column.message]);
      continue;
    }
    const r = spec.ranges.subarray(4 * row, 4 * row + 4);
    const [a, b, c, d] = [lowerBound(times, r[0]!), lowerBound(times, r[1]!), lowerBound(times, r[2]!), lowerBound(times, r[3]!)];
    const empty = r[1]! > r[0]! && a === b ? 'train' : r[3]! > r[2]! && c === d ? 'test' : undefined;
    if (empty !== undefined) {
      const [from, to] = empty === 'train' ? [r[0]!, r[1]!] : [r[2]!, r[3]!];
      const name = source.columns[spec.columnOf[row] as number] ?? 'the value column';
      failures.push([row, 'EMPTY_RANGE', `no rows in the ${empty} range [${formatRangeValue(from, source.rangeKind)}, ${formatRangeValue(to, source.rangeKind)}) of ${name}`]);
      continue;
    }
    cut.slices.push({ train: column.subarray(a, b), test: column.subarray(c, d), trainTimes: times.subarray(a, b), testTimes: times.subarray(c, d) });
    cut.rows.push(row);
  }
}

/** Slices ready to fit, and the batch row of each. */
interface Cut {
  slices: Slice[];
  rows: number[];
}

/** Fits and scores the cut slices into their rows of the result (through the family's batched trainer if it has one). */
async function evaluateInto(family: ModelFamily, cut: Cut, result: Columns, failures: RowFailure[]): Promise<void> {
  if (cut.slices.length === 0) return;
  const batch = await evaluateManyBatched(family, cut.slices);
  const k = result.paramCount;
  cut.rows.forEach((row, j) => {
    result.params.set(batch.params.subarray(j * k, (j + 1) * k), row * k);
    for (const name of ROW_COLUMNS) result[name][row] = batch[name][j]!;
  });
  for (const failure of batch.failures) failures.push([cut.rows[failure.index] as number, failure.code, failure.message]);
  cut.slices = [];
  cut.rows = [];
}

/** The per-row columns besides params, copied from an evaluation batch into the batch result. */
const ROW_COLUMNS = ['ok', 'trainPoints', 'testPoints', 'anomalies', 'trainRmse', 'trainMae', 'testRmse', 'testMae', 'anomalyRate', 'trainMs'] as const;

type Columns = Omit<BatchResult, 'failedIndex' | 'failedCode' | 'failedMessage' | 'stats'>;

function emptyResult(family: ModelFamily, count: number): Columns {
  return {
    ...fitColumns(family, count),
    testPoints: new Int32Array(count),
    testRmse: new Float64Array(count).fill(NaN),
    testMae: new Float64Array(count).fill(NaN),
    anomalies: new Int32Array(count),
    anomalyRate: new Float64Array(count).fill(NaN),
  };
}

/** The client builds specs; this guards against one from another version of it. */
function checkSpec(spec: BatchSpec): void {
  const count = spec?.columnOf?.length;
  const covered = spec?.sources?.reduce((sum, source) => sum + source.count, 0);
  if (!(spec?.columnOf instanceof Uint32Array) || !(spec.ranges instanceof Float64Array) || spec.ranges.length !== 4 * count || covered !== count) {
    throw new TrainManyError('BAD_BATCH', 'trainBatch: malformed batch spec (columnOf, ranges and sources disagree on the slice count)');
  }
}
