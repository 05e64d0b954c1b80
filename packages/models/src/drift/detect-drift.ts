// detectDrift: per slice, is its recent (test range) data still like its training data? Batched like scoring
// (one driftBatch task per batch, the group read once per worker process); the statistics run in the tasks
// (driftStatistic), the group-wide decision on the client: for ks, Bonferroni across every slice tested. The
// run is recorded beside the version in the store (which models drifted, when, by how much).
import type { Client } from '@loom/client';
import { planModelRun, type ModelRunOptions } from '../score-many/model-batches.js';
import { ScoreManyError } from '../score-many/errors.js';
import { DRIFT_BATCH } from '../score-many/score-wire.js';
import type { DriftBatchResult, DriftBatchSpec } from '../tasks/drift-batch.js';
import { runWindowed } from '../train-many/batch-window.js';
import type { SliceFailure } from '../train-many/batch-records.js';
import { bonferroni } from './bonferroni.js';
import { DRIFT_DEFAULTS, DRIFT_METHODS, type DriftMethod, type DriftOptions } from './drift-method.js';
import { DriftResult } from './detect-drift-result.js';

export interface DetectDriftOptions extends ModelRunOptions {
  method: DriftMethod;
  options?: DriftOptions;
  /** Record the run beside the version in the store (default true). */
  record?: boolean;
  /** Batches in flight at once (default 3 per worker thread). */
  window?: number;
}

/** The failures the record lists (all of them are in the result). */
const RECORDED_FAILURES = 10_000;

export async function detectDrift(client: Pick<Client, 'submitWith' | 'schedulerInfo'>, options: DetectDriftOptions): Promise<DriftResult> {
  if (!DRIFT_METHODS.includes(options?.method)) throw new ScoreManyError('BAD_OPTIONS', `detectDrift: method must be one of ${DRIFT_METHODS.join(', ')}, got ${JSON.stringify(options?.method)}`);
  const run = planModelRun('detectDrift', options);
  const method = options.method;
  const driftOptions = options.options ?? {};
  const n = options.split.size;
  const ids: string[] = [];
  const columns = { statistic: new Float64Array(n), pValue: new Float64Array(n), threshold: new Float64Array(n), drifted: new Uint8Array(n), changeAt: new Float64Array(n) };
  const ok = new Uint8Array(n);
  const failed: SliceFailure[] = [];
  const starts = new Map<object, number>();
  let at = 0;
  for (const batch of run.batches) {
    starts.set(batch, at);
    for (const slice of batch.slices) ids.push(slice.id);
    at += batch.slices.length;
  }
  const loads: Array<{ pid: number; thread: number; groupLoaded: boolean }> = [];
  const window = options.window ?? Math.max(2, 3 * (await client.schedulerInfo()).workers.reduce((sum, worker) => sum + worker.nthreads, 0));
  await runWindowed(run.batches, window, async (batch) => {
    const spec: DriftBatchSpec = { ...run.spec(batch), method, options: driftOptions };
    const future = client.submitWith<DriftBatchResult>({ name: 'drift-batch', pure: false, retries: 1 }, DRIFT_BATCH, spec);
    let result: DriftBatchResult;
    try {
      result = await future.result();
    } catch (error) {
      throw new ScoreManyError('BATCH_FAILED', `detectDrift: a batch of ${batch.slices.length} slices failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      future.release();
    }
    if (result.statistic.length !== batch.slices.length) throw new ScoreManyError('BAD_BATCH', `detectDrift: a batch of ${batch.slices.length} slices answered ${result.statistic.length} rows`);
    const first = starts.get(batch) as number;
    for (const name of ['statistic', 'pValue', 'threshold', 'changeAt', 'drifted'] as const) columns[name].set(result[name], first);
    ok.fill(1, first, first + batch.slices.length);
    result.failedIndex.forEach((row, f) => {
      ok[first + row] = 0;
      failed.push({ id: (batch.slices[row] as { id: string }).id, code: result.failedCode[f] ?? 'DRIFT_FAILED', error: result.failedMessage[f] ?? '' });
    });
    loads.push({ pid: result.stats.pid, thread: result.stats.thread, groupLoaded: result.stats.groupLoaded });
  });

  // ks decides across the group: each p-value against alpha / (slices tested).
  const tested = n - failed.length;
  const recordedOptions: Record<string, unknown> = { ...driftOptions };
  if (method === 'ks') {
    const alpha = driftOptions.ksAlpha ?? DRIFT_DEFAULTS.ksAlpha;
    const perTest = bonferroni(alpha, Math.max(1, tested));
    for (let i = 0; i < n; i++) {
      if (ok[i] !== 1) continue;
      columns.threshold[i] = perTest;
      columns.drifted[i] = (columns.pValue[i] as number) < perTest ? 1 : 0;
    }
    recordedOptions['ksAlpha'] = alpha;
    recordedOptions['perTestAlpha'] = perTest;
  }
  const result = new DriftResult({ group: options.group, version: run.manifest.version, method, ids, ok, ...columns, failed, loads });
  if (options.record !== false) {
    await options.store.recordDrift({
      format: 'loom-drift/1',
      group: options.group,
      version: run.manifest.version,
      method,
      options: recordedOptions,
      detectedAt: new Date().toISOString(),
      split: { origin: options.split.origin, slices: n },
      tested,
      failed: failed.length,
      drifted: result.driftedModels(),
      failures: failed.slice(0, RECORDED_FAILURES),
    });
  }
  return result;
}
