// The summary of a finished trainMany run, as printed by `loom models train` and the demo: what was trained
// and published, the failed slices grouped by reason (with one example each), the test error of the version's
// models, and where the tasks' time went.
import type { ModelGroup } from '../store/model-group.js';
import type { SliceFailure } from '../train-many/batch-records.js';
import type { TrainManyResult } from '../train-many/train-many.js';
import { formatNumber, quantiles } from './figures.js';
import { seconds } from './progress-line.js';

export interface FailureGroup {
  code: string;
  count: number;
  /** The first failure of this code, as an example. */
  first: SliceFailure;
}

/** Failed slices by reason, the most frequent first. */
export function groupFailures(failed: readonly SliceFailure[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const failure of failed) {
    const group = groups.get(failure.code);
    if (group === undefined) groups.set(failure.code, { code: failure.code, count: 1, first: failure });
    else group.count++;
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/** Lines of the summary; `group` is the published version, opened, for the test error of all its models. */
export function runSummary(result: TrainManyResult, group: ModelGroup): string[] {
  const n = (value: number): string => value.toLocaleString('en-US');
  const of = (value: number, noun: string): string => `${n(value)} ${noun}${value === 1 ? '' : 's'}`;
  const rate = result.seconds > 0 ? `, ${n(Math.round(result.trained / result.seconds))} models/s` : '';
  const carried = result.carried > 0 ? `, ${of(result.carried, 'model')} carried forward unchanged` : '';
  const resumed = result.batches.resumed > 0 ? ` (${result.batches.resumed} of ${result.batches.total} batches found staged by an earlier run)` : '';
  const lines = [`trained ${of(result.trained, 'model')} in ${seconds(result.seconds)}${rate}${carried}: group ${result.group}, version ${result.version}${resumed}`];
  const failures = groupFailures(result.failed);
  lines.push(failures.length === 0 ? 'failed: none' : `failed: ${of(result.failed.length, 'slice')}`);
  const width = Math.max(0, ...failures.map((f) => f.code.length));
  for (const { code, count, first } of failures) lines.push(`  ${code.padEnd(width)}  ${n(count).padStart(6)}  e.g. ${first.id}: ${first.error}`);
  const rmse = quantiles(group.metric('testRmse'));
  const anomalies = group.metric('anomalies').reduce((sum, v) => sum + v, 0);
  const testPoints = group.metric('testPoints').reduce((sum, v) => sum + v, 0);
  lines.push(
    `test RMSE: median ${formatNumber(rmse.median)}, p90 ${formatNumber(rmse.p90)} (over ${n(rmse.count)} of the version's ${n(group.size)} models); ` +
      `${n(anomalies)} of ${n(testPoints)} test values outside their band (${testPoints === 0 ? '-' : `${((100 * anomalies) / testPoints).toFixed(2)} %`})`,
  );
  const { readSeconds, fitSeconds, storeSeconds, queries, scans, rows } = result.work;
  lines.push(
    `work: ${of(result.batches.ran, 'task')}; read ${seconds(readSeconds)} and fit ${seconds(fitSeconds)} (summed over tasks), store ${seconds(storeSeconds)}; ` +
      `${n(queries)} queries, ${n(scans)} file scans, ${n(rows)} rows`,
  );
  return lines;
}
