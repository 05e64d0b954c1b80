// bench:many's tables: every system on one scale (seconds for its models, models/s, microseconds per model, fits
// per second per core, and the ratios the issue sets targets on), where Loom's time went, the data, the checks
// that passed, and the targets met or missed.
import type { Fleet } from './many-fleet.js';
import type { LoomMeasurement, LoomRepeat } from './many-loom.js';
import { THREADS_PER_WORKER, WORKERS } from './many-loom.js';
import type { PostgresFleet } from './many-postgres.js';
import type { PythonResults } from './many-python.js';
import { fmt, printTable } from './table.js';

export interface ManyReport {
  data: Fleet;
  pg: PostgresFleet | undefined;
  python: PythonResults | undefined;
  loom: LoomMeasurement[];
  checks: string[];
  load: { start: number; end: number };
  memoryLimit: string;
}

const MiB = 2 ** 20;
const LOOM_CORES = WORKERS * THREADS_PER_WORKER;

/** One row of the main table, every figure per model so that sampled and complete runs compare. */
interface Row {
  system: string;
  work: string;
  models: string;
  first?: number;
  /** Seconds for the row's models (extrapolated for sampled rows). */
  best: number;
  /** Seconds per model of the best run. */
  perModel: number;
  cores: number;
  baseline: 'ar' | 'arima' | 'none';
  rss: string;
}

export function printManyTables(report: ManyReport): void {
  const { data, python, loom } = report;
  const byName = new Map(loom.map((m) => [m.name, m]));
  const n = (value: number) => value.toLocaleString('en');
  const bestOf = (m: LoomMeasurement): LoomRepeat => m.repeats.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const rssOf = (m: LoomMeasurement) => {
    const peaks = m.repeats.map((r) => Math.max(...r.peakRss));
    return `${m.repeats[0]!.peakRss.map((b) => fmt(b / MiB)).join(' / ')}${m.repeats.length > 1 ? ` (max ${fmt(Math.max(...peaks) / MiB)})` : ''}`;
  };
  const loomRow = (m: LoomMeasurement | undefined, system: string, work: string, baseline: Row['baseline']): Row[] => {
    if (m === undefined) return [];
    const best = bestOf(m);
    const models = best.result.trained;
    const failed = best.result.failed.length;
    return [{
      system, work, models: `${n(models)}${failed > 0 ? ` (+${n(failed)} failed)` : ''}`,
      first: m.repeats[0]!.seconds, best: best.seconds, perModel: best.seconds / (models + failed), cores: LOOM_CORES, baseline, rss: rssOf(m),
    }];
  };
  const sampled = (models: number, of: number) => `${n(of)} (extrapolated from ${n(models)})`;
  const rows: Row[] = [
    ...loomRow(byName.get('loom-parquet'), `Loom ar(8), ${WORKERS} workers x ${THREADS_PER_WORKER} thread`, 'Parquet: readSplit, read, fit, score, store', 'ar'),
    ...loomRow(byName.get('loom-postgres'), `Loom ar(8), ${WORKERS} workers x ${THREADS_PER_WORKER} thread`, 'PostgreSQL: readSplit, read, fit, score, store', 'ar'),
  ];
  if (python !== undefined) {
    const { loop, pool, numpy } = python;
    rows.push({ system: 'statsmodels AutoReg loop, 1 process', work: '.npy: fit', models: sampled(loop.models, data.series), best: (loop.seconds / loop.models) * data.series, perModel: loop.seconds / loop.models, cores: 1, baseline: 'ar', rss: '' });
    if (pool !== undefined) {
      rows.push({ system: `statsmodels AutoReg, multiprocessing pool of ${pool.processes}`, work: '.npy: fit', models: sampled(pool.models, data.series), best: (pool.seconds / pool.models) * data.series, perModel: pool.seconds / pool.models, cores: pool.processes, baseline: 'ar', rss: fmt(pool.peak_rss_bytes / MiB) });
    }
    if (numpy.length > 0) {
      const best = Math.min(...numpy.map((r) => r.seconds));
      rows.push({ system: `NumPy batched normal equations, 1 process (${n(numpy[0]!.chunk)} series a batch)`, work: '.npy: read, fit, score', models: n(numpy[0]!.models), first: numpy[0]!.seconds, best, perModel: best / numpy[0]!.models, cores: 1, baseline: 'ar', rss: fmt(Math.max(...numpy.map((r) => r.peak_rss_bytes)) / MiB) });
    }
  }
  rows.push(...loomRow(byName.get('loom-arima'), `Loom arima(2,0,1), ${WORKERS} x ${THREADS_PER_WORKER}`, 'Parquet: readSplit, read, fit (CSS), score, store', 'arima'));
  const arimaLoom = byName.get('loom-arima');
  if (python?.arima !== undefined && arimaLoom !== undefined) {
    const { arima } = python;
    const of = bestOf(arimaLoom).result.trained + bestOf(arimaLoom).result.failed.length;
    rows.push({ system: `statsmodels ARIMA(${arima.order.join(',')}) loop, 1 process`, work: `.npy: fit (exact ML)${arima.failed > 0 ? `, ${arima.failed} failed` : ''}`, models: sampled(arima.models, of), best: (arima.seconds / arima.models) * of, perModel: arima.seconds / arima.models, cores: 1, baseline: 'arima', rss: '' });
  }
  rows.push(...loomRow(byName.get('loom-lstm'), `Loom lstm(24,16), ${WORKERS} x ${THREADS_PER_WORKER}`, 'Parquet: readSplit, read, fit (Adam), score, store', 'none'));

  const statsmodelsPerModel = python?.loop === undefined ? undefined : python.loop.seconds / python.loop.models;
  const arimaPerModel = python?.arima === undefined ? undefined : python.arima.seconds / python.arima.models;
  const numpyPerModel = python === undefined || python.numpy.length === 0 ? undefined : Math.min(...python.numpy.map((r) => r.seconds)) / python.numpy[0]!.models;
  const ratio = (theirs: number | undefined, ours: number) => (theirs === undefined ? '' : `${fmt(theirs / ours, theirs / ours < 10 ? 2 : 0)}x`);
  printTable(
    `Many models: ${n(data.series)} series x ${data.hours} points (train ${data.trainHours}, test ${data.hours - data.trainHours}); load average ${fmt(report.load.start, 1)} at start, ${fmt(report.load.end, 1)} at end`,
    ['system', 'work timed', 'models', 'first s', 'best s', 'models/s', 'us/model', 'fits/s/core', 'vs statsmodels loop', 'vs NumPy batched', 'peak RSS MiB'],
    rows.map((row) => [
      row.system, row.work, row.models, row.first === undefined ? '' : fmt(row.first, 2), fmt(row.best, 2), fmt(1 / row.perModel), fmt(row.perModel * 1e6, 1),
      fmt(1 / row.perModel / row.cores),
      row.baseline === 'ar' ? ratio(statsmodelsPerModel, row.perModel) : row.baseline === 'arima' ? ratio(arimaPerModel, row.perModel) : '',
      row.baseline === 'ar' ? ratio(numpyPerModel, row.perModel) : '',
      row.rss,
    ]),
  );
  console.log(
    '  Loom rows: wall time from readSplit to the published version, on a running cluster (its start is excluded); peak RSS per worker.\n' +
      '  Python rows read the same values from a float64 .npy matrix (Debian 12 has no Parquet reader for Python), so they exclude the\n' +
      `  Parquet read; statsmodels rows time a stride sample of the series and extrapolate the total. fits/s/core divides by the processes\n` +
      `  used (Loom: ${LOOM_CORES} worker threads; the client and scheduler share the same cores).`,
  );
  if (python !== undefined && python.numpy.length > 0) {
    const best = python.numpy.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    console.log(`  NumPy batched, best run: read ${fmt(best.read_s, 2)} s, fit (coefficients and sigma) ${fmt(best.fit_s, 2)} s, test scoring ${fmt(best.score_s, 2)} s;`);
    console.log('  its peak RSS counts the pages of the memory-mapped .npy it has read (the whole matrix by the end), not memory it holds.');
  }

  printTable('Where Loom\'s time goes (best repeat; task figures are summed over the worker threads)', [
    'run', 'end to end s', 'readSplit s', 'trainMany s', 'tasks waiting on reads s', 'tasks fitting s', 'worker busy', 'client staging s', 'publish s', 'batches', 'rows read', 'queries/scans', 'cluster start s',
  ], loom.map((m) => {
    const best = bestOf(m);
    const { work, batches, seconds } = best.result;
    const busy = (work.readSeconds + work.fitSeconds) / (seconds * LOOM_CORES);
    return [
      m.name, fmt(best.seconds, 2), fmt(best.splitSeconds, 2), fmt(seconds, 2), fmt(work.readSeconds, 2), fmt(work.fitSeconds, 2), `${fmt(100 * busy)} %`,
      fmt(work.storeSeconds - work.publishSeconds, 2), fmt(work.publishSeconds, 2), n(batches.total), n(work.rows), `${n(work.queries)}/${n(work.scans)}`, fmt(m.clusterStartSeconds, 1),
    ];
  }));
  console.log(
    '  tasks waiting on reads: time a task waited for its next source (reading and decoding; reads run ahead of fitting, so this is\n' +
      '  what they did not hide); tasks fitting: cutting slices, fit and test scoring; worker busy: both over trainMany s x worker threads.\n' +
      '  client staging: writing each batch into the store as it arrives (overlaps the tasks); publish: after the last batch.',
  );

  printTable('Data', ['source', 'series', 'size', 'prepared s', 'where'], [
    ['Parquet (one file per database)', n(data.series), `${fmt(data.parquetBytes / MiB)} MiB in ${n(data.databases)} files`, `${fmt(data.generatedSeconds, 1)}${data.cached ? ' (cached)' : ''}`, data.dir],
    ...(report.pg === undefined ? [] : [['PostgreSQL (one table per database, COPY)', n(report.pg.series), '', report.pg.cached ? 'cached' : fmt(report.pg.loadSeconds, 1), report.pg.url.replace(/:[^:@/]*@/, ':***@')]]),
  ]);

  console.log('\nChecks');
  for (const line of report.checks) console.log(`  ${line}`);
  if (python !== undefined) console.log(`  NumPy baseline agrees with statsmodels AutoReg on ${python.checks.size} series (numpy ${python.environment.numpy}, statsmodels ${python.environment.statsmodels})`);
  for (const m of loom) {
    const peak = Math.max(...m.repeats.flatMap((r) => r.peakRss));
    console.log(`  ${m.name}: peak worker RSS ${fmt(peak / MiB)} MiB of a ${report.memoryLimit} limit: ${peak < m.memoryLimitBytes ? 'under' : 'OVER'}${m.peakPerRepeat ? '' : ' (peaks since cluster start)'}`);
  }
  printTargets(report, byName.get('loom-parquet'), statsmodelsPerModel, numpyPerModel);
}

function printTargets(report: ManyReport, parquet: LoomMeasurement | undefined, statsmodelsPerModel: number | undefined, numpyPerModel: number | undefined): void {
  if (parquet === undefined) return;
  const best = parquet.repeats.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const perModel = best.seconds / (best.result.trained + best.result.failed.length);
  const full = report.data.series >= 250_000;
  console.log('\nTargets');
  console.log(`  250,000 ar models end to end in under 60 s (moonshot 20 s): ${fmt(best.seconds, 1)} s for ${best.result.trained.toLocaleString('en')}${full ? '' : ` (a smaller run; at this rate 250,000 take ${fmt(perModel * 250_000, 1)} s)`}`);
  if (statsmodelsPerModel !== undefined) console.log(`  at least 50x the statsmodels loop per model: ${fmt(statsmodelsPerModel / perModel)}x`);
  if (numpyPerModel !== undefined) console.log(`  at least 2x NumPy batched: ${fmt(numpyPerModel / perModel, 2)}x`);
  console.log(`  fits per second per core: ${fmt(1 / perModel / LOOM_CORES)}`);
}
