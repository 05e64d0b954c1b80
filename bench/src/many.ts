// `npm run bench:many`: many small models at once. A generated fleet (5,000 databases x 50 metrics = 250,000
// hourly series of 720 points, with injected anomalies; Parquet files named by a split.csv, cached under
// bench/.data/many) trained with ar({ p: 8 }) end to end by trainMany on a LocalCluster of 2 workers x 1 thread
// (readSplit, then read, fit, score and store), the same from PostgreSQL tables at a smaller scale, and arima
// and lstm rows at the scale they reach. In the same run, on the same series, Python baselines from Debian's
// packages (many_baselines.py): statsmodels' AutoReg in a loop (a sample, extrapolated), the same loop over a
// pool of 2 processes, and NumPy batched over all series; and statsmodels' ARIMA sampled for the arima row.
// Stored models are checked against evaluate() and the baselines' coefficients before any figure is printed.
// Env: BENCH_MANY_SERIES (250000), BENCH_MANY_PG_SERIES (10000), BENCH_MANY_ARIMA_SERIES (20000),
// BENCH_MANY_LSTM_SERIES (512), BENCH_MANY_REPEATS (2), BENCH_MANY_LSTM_REPEATS (1), BENCH_MANY_SAMPLE
// (statsmodels AutoReg sample, 2000), BENCH_MANY_ARIMA_SAMPLE (200), BENCH_MANY_MEMORY_LIMIT (per worker, 2GiB),
// BENCH_MANY_NUMPY_CHUNK (series per NumPy batch; default 0: the fastest of a few, tried first),
// BENCH_MANY_DATA_DIR (bench/.data/many), BENCH_SKIP_PYTHON; a count of 0 skips its row. Every series count is
// rounded up to whole databases of 50 metrics.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ar, arima, lstm, type ModelFamily } from '@loom/models';
import { AGREEMENT, checkAgainstEvaluate, checkAgainstReference, checkRescored, checkRows, idOfRow, relativeDifference } from './many-checks.js';
import { fleet, METRICS, type Fleet, type FleetShape } from './many-fleet.js';
import { measureLoom, THREADS_PER_WORKER, WORKERS, type LoomMeasurement } from './many-loom.js';
import { PG_DATABASE, postgresFleet, postgresUrl } from './many-postgres.js';
import { runPythonBaselines, type PythonResults } from './many-python.js';
import { printManyTables } from './many-report.js';
import { pythonHas } from './reference.js';

const log = (message: string) => process.stderr.write(`[bench:many] ${message}\n`);
const count = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  return value;
};
const databasesFor = (series: number): number => Math.ceil(series / METRICS.length);

const SERIES = count('BENCH_MANY_SERIES', 250_000);
const PG_SERIES = count('BENCH_MANY_PG_SERIES', 10_000);
const ARIMA_SERIES = count('BENCH_MANY_ARIMA_SERIES', 20_000);
const LSTM_SERIES = count('BENCH_MANY_LSTM_SERIES', 512);
const REPEATS = Math.max(1, count('BENCH_MANY_REPEATS', 2));
const LSTM_REPEATS = Math.max(1, count('BENCH_MANY_LSTM_REPEATS', 1));
const SAMPLE = count('BENCH_MANY_SAMPLE', 2_000);
const ARIMA_SAMPLE = count('BENCH_MANY_ARIMA_SAMPLE', 200);
const NUMPY_CHUNK = count('BENCH_MANY_NUMPY_CHUNK', 0);
const MEMORY_LIMIT = process.env['BENCH_MANY_MEMORY_LIMIT'] ?? '2GiB';
const DATA_DIR = process.env['BENCH_MANY_DATA_DIR'] ?? fileURLToPath(new URL('../.data/many', import.meta.url));
const HOURS = 720;
const TRAIN_HOURS = 600;
const SEED = 15;
const AR = ar({ p: 8 });
const ARIMA_ORDER: [number, number, number] = [2, 0, 1];
const ARIMA = arima({ p: ARIMA_ORDER[0], d: ARIMA_ORDER[1], q: ARIMA_ORDER[2] });
const LSTM = lstm({ window: 24, hidden: 16 });

const shapeOf = (series: number): FleetShape => ({ databases: databasesFor(series), hours: HOURS, trainHours: TRAIN_HOURS, seed: SEED });

/** A split of the fleet's first `series` series (whole databases): the first lines of its split.csv. */
function subsetSplit(source: Fleet, series: number, name: string): string {
  const path = join(source.dir, `split-${name}-${series}.csv`);
  if (!existsSync(path)) {
    const lines = readFileSync(source.splitPath, 'utf8').split('\n');
    writeFileSync(path, `${lines.slice(0, series + 1).join('\n')}\n`);
  }
  return path;
}

async function main(): Promise<void> {
  if (SERIES === 0) throw new Error('BENCH_MANY_SERIES must be positive');
  const loadAtStart = loadavg()[0]!;
  const data = fleet(DATA_DIR, shapeOf(SERIES), log);
  log(data.cached ? `fleet of ${data.series.toLocaleString('en')} series from the cache (${data.dir})` : `fleet generated in ${data.generatedSeconds.toFixed(1)} s`);
  const rows = checkRows(data.series);
  const wholeDatabases = (series: number): number => Math.min(data.series, databasesFor(series) * METRICS.length);
  const arimaSeries = wholeDatabases(ARIMA_SERIES);
  const lstmSeries = wholeDatabases(LSTM_SERIES);
  const pgShape = shapeOf(PG_SERIES);
  const pgUrl = PG_SERIES > 0 ? postgresUrl(log) : undefined;
  const pg = pgUrl === undefined ? undefined : await postgresFleet(pgUrl, pgShape, data.dir, log);
  if (pg !== undefined) log(pg.cached ? `PostgreSQL fleet of ${pg.series.toLocaleString('en')} series already loaded` : `PostgreSQL fleet loaded with COPY in ${pg.loadSeconds.toFixed(1)} s`);

  let python: PythonResults | undefined;
  if (process.env['BENCH_SKIP_PYTHON']) log('skipping the Python baselines (BENCH_SKIP_PYTHON set)');
  else if (!pythonHas('statsmodels')) log('statsmodels not importable by /usr/bin/python3 (apt-get install -y python3-statsmodels): Loom only');
  else {
    log(`Python baselines: statsmodels AutoReg on ${Math.min(SAMPLE, data.series)} series (1 and 2 processes), NumPy batched on ${data.series.toLocaleString('en')}`);
    python = runPythonBaselines({
      npy: data.npyPath, series: data.series, train: TRAIN_HOURS, p: AR.params.p, k: 3, sample: SAMPLE, processes: WORKERS * THREADS_PER_WORKER,
      repeats: REPEATS, chunk: NUMPY_CHUNK, checks: rows,
      arima: { series: arimaSeries, sample: ARIMA_SAMPLE, order: ARIMA_ORDER },
    });
    for (const [row, { statsmodels, numpy }] of python.checks) {
      const difference = relativeDifference(numpy, statsmodels);
      if (!(difference <= AGREEMENT)) throw new Error(`the NumPy baseline disagrees with statsmodels on ${idOfRow(row)} by ${difference.toExponential(2)}`);
    }
  }

  const storeRoot = join(DATA_DIR, 'stores');
  const keep = rows.map(idOfRow);
  const measure = (name: string, splitPath: string, family: ModelFamily, repeats: number, connections?: Record<string, string>) =>
    measureLoom({ name, splitPath, family, repeats, memoryLimit: MEMORY_LIMIT, storeRoot, keep, log, ...(connections === undefined ? {} : { connections }) });
  const loom: LoomMeasurement[] = [];
  const checks: string[] = [];
  const checkAr = (measurement: LoomMeasurement, shape: FleetShape): void => {
    const exact = checkAgainstEvaluate(measurement.name, shape, AR, measurement.stored, rows);
    let line = `${measurement.name}: ${exact} stored models equal evaluate() bit for bit`;
    if (python !== undefined) {
      const numpy = checkAgainstReference(measurement.name, 'the NumPy baseline', measurement.stored, new Map([...python.checks].map(([row, c]) => [row, c.numpy])));
      const statsmodels = checkAgainstReference(measurement.name, 'statsmodels AutoReg', measurement.stored, new Map([...python.checks].map(([row, c]) => [row, c.statsmodels])));
      line += `; coefficients and sigma within ${numpy.toExponential(1)} of NumPy's, ${statsmodels.toExponential(1)} of statsmodels' (relative)`;
    }
    checks.push(line);
  };

  log(`Loom: ar(p=8) on ${data.series.toLocaleString('en')} series from Parquet, ${REPEATS} repeats`);
  const parquet = await measure('loom-parquet', data.splitPath, AR, REPEATS);
  checkAr(parquet, data);
  loom.push(parquet);
  if (pg !== undefined) {
    log(`Loom: ar(p=8) on ${pg.series.toLocaleString('en')} series from PostgreSQL, ${REPEATS} repeats`);
    const database = await measure('loom-postgres', pg.splitPath, AR, REPEATS, { [PG_DATABASE]: pg.url });
    checkAr(database, pgShape);
    loom.push(database);
  }
  if (arimaSeries > 0) {
    log(`Loom: arima(2,0,1) on ${arimaSeries.toLocaleString('en')} series from Parquet, ${REPEATS} repeats`);
    const measurement = await measure('loom-arima', subsetSplit(data, arimaSeries, 'arima'), ARIMA, REPEATS);
    checks.push(`${measurement.name}: ${checkAgainstEvaluate(measurement.name, data, ARIMA, measurement.stored, rows.filter((row) => row < arimaSeries))} stored models equal evaluate() bit for bit`);
    loom.push(measurement);
  }
  if (lstmSeries > 0) {
    log(`Loom: lstm(window=24, hidden=16) on ${lstmSeries.toLocaleString('en')} series from Parquet, ${LSTM_REPEATS} repeat(s)`);
    const measurement = await measure('loom-lstm', subsetSplit(data, lstmSeries, 'lstm'), LSTM, LSTM_REPEATS);
    const rescored = checkRescored(measurement.name, data, LSTM, measurement.stored, rows.filter((row) => row < lstmSeries));
    checks.push(`${measurement.name}: ${rescored} stored models scored again here give their stored test RMSE and anomalies`);
    loom.push(measurement);
  }

  printManyTables({ data, pg, python, loom, checks, load: { start: loadAtStart, end: loadavg()[0]! }, memoryLimit: MEMORY_LIMIT });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
