// bench:many's data: a fleet of databases, each with the same metrics sampled hourly for a month, generated from
// a seed (series i is the same whatever the fleet's size) and cached on disk. Each database is one Parquet file
// (`ts` and one DOUBLE column per metric, one row group), named by a file-rows `split.csv`; the same values are
// also written once as one float64 `.npy` matrix (series x hours, rows in split order) for the Python baselines,
// because Debian's Python has no Parquet reader.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '@loom/ml';
import { parquetWriteFile } from 'hyparquet-writer';

export const HOUR = 3_600_000;
export const START = Date.UTC(2024, 0, 1);
/** Bump when the generator changes, so cached fleets are regenerated. */
export const GENERATOR_VERSION = 2;

/** The 50 metrics watched on every database: one series each. */
export const METRICS = [
  'cpu_user', 'cpu_system', 'cpu_iowait', 'cpu_steal', 'load_avg', 'mem_used', 'mem_cached', 'swap_used',
  'disk_read_bytes', 'disk_write_bytes', 'disk_read_ops', 'disk_write_ops', 'io_latency_ms', 'fsync_ms',
  'net_in_bytes', 'net_out_bytes', 'connections_active', 'connections_idle', 'backend_count', 'tps', 'qps',
  'commits', 'rollbacks', 'deadlocks', 'locks_waiting', 'lock_timeouts', 'cache_hit_ratio', 'buffer_reads',
  'buffer_hits', 'bgwriter_buffers', 'temp_bytes', 'wal_bytes', 'replication_lag', 'checkpoints', 'seq_scans',
  'idx_scans', 'rows_fetched', 'rows_inserted', 'rows_updated', 'rows_deleted', 'query_p50_ms', 'query_p95_ms',
  'query_p99_ms', 'slow_queries', 'autovacuum_runs', 'table_bloat', 'index_bloat', 'db_size', 'xid_age', 'errors',
] as const;
const TIERS = ['prod', 'prod', 'staging', 'dev'] as const;

export interface FleetShape {
  databases: number;
  hours: number;
  /** Hours of each series' training range (the rest is its test range). */
  trainHours: number;
  seed: number;
}

export interface Fleet extends FleetShape {
  dir: string;
  series: number;
  splitPath: string;
  npyPath: string;
  /** Bytes of the Parquet files. */
  parquetBytes: number;
  /** Seconds the generation took (when the fleet came from the cache: when it was generated). */
  generatedSeconds: number;
  cached: boolean;
}

/** What determines a fleet's values: its size, the seed and the generator. */
export const fleetKey = (shape: FleetShape): string => `${shape.databases}x${METRICS.length}x${shape.hours}-seed${shape.seed}-v${GENERATOR_VERSION}`;

export const databaseName = (d: number): string => `db${String(d).padStart(5, '0')}`;
export const seriesId = (d: number, m: number): string => `${databaseName(d)}.${METRICS[m]}`;
export const tierOf = (d: number): string => TIERS[d % TIERS.length] as string;

/**
 * Series `index` of the fleet, `out.length` hours from START: a level with a daily cycle, AR(2) noise around it,
 * and injected anomalies (spikes, about one hour in 500, and in one series of 20 a level shift in its last
 * quarter), so the models have something to flag.
 */
export function fillSeries(seed: number, index: number, out: Float64Array): void {
  const rng = new Rng(seed, index);
  const next = (): number => rng.uniform();
  const level = 10 + 990 * next() ** 2;
  const scale = level * (0.01 + 0.09 * next());
  const daily = scale * 3 * next();
  const phase = 24 * next();
  const phi1 = 0.3 + 0.6 * next();
  const phi2 = -0.3 + 0.4 * next() * (1 - phi1);
  const shiftAt = next() < 0.05 ? Math.floor(out.length * (0.75 + 0.2 * next())) : out.length;
  const shift = (next() < 0.5 ? -1 : 1) * scale * (3 + 3 * next());
  let a = 0;
  let b = 0;
  for (let t = 0; t < out.length; t++) {
    const x = phi1 * a + phi2 * b + scale * rng.normal();
    b = a;
    a = x;
    const spike = next() < 0.002 ? (next() < 0.5 ? -1 : 1) * scale * (6 + 6 * next()) : 0;
    out[t] = level + daily * Math.sin((2 * Math.PI * (t + phase)) / 24) + x + spike + (t >= shiftAt ? shift : 0);
  }
}

/** The values of database `d`: its metrics one after another, `hours` values each. */
export function databaseValues(shape: FleetShape, d: number, out = new Float64Array(METRICS.length * shape.hours)): Float64Array {
  for (let m = 0; m < METRICS.length; m++) fillSeries(shape.seed, d * METRICS.length + m, out.subarray(m * shape.hours, (m + 1) * shape.hours));
  return out;
}

export const trainRange = (shape: FleetShape) => ({ from: START, to: START + shape.trainHours * HOUR });
export const testRange = (shape: FleetShape) => ({ from: START + shape.trainHours * HOUR, to: START + shape.hours * HOUR });

/** The fleet under `root`, generated there first unless a complete one with the same shape is cached. */
export function fleet(root: string, shape: FleetShape, log: (message: string) => void): Fleet {
  const key = `fleet-${fleetKey(shape)}-train${shape.trainHours}`;
  const dir = join(root, key);
  const marker = join(dir, 'fleet.json');
  const paths = { splitPath: join(dir, 'split.csv'), npyPath: join(dir, 'series.npy') };
  const series = shape.databases * METRICS.length;
  if (existsSync(marker)) {
    const { parquetBytes, generatedSeconds } = JSON.parse(readFileSync(marker, 'utf8')) as { parquetBytes: number; generatedSeconds: number };
    return { ...shape, dir, series, ...paths, parquetBytes, generatedSeconds, cached: true };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'parquet'), { recursive: true });
  const started = performance.now();
  log(`generating ${series.toLocaleString('en')} series (${shape.databases} databases x ${METRICS.length} metrics x ${shape.hours} hours) into ${dir}`);
  const times = Array.from({ length: shape.hours }, (_, t) => new Date(START + t * HOUR));
  const npy = openSync(paths.npyPath, 'w');
  let parquetBytes = 0;
  try {
    writeSync(npy, npyHeader([series, shape.hours]));
    const values = new Float64Array(METRICS.length * shape.hours);
    for (let d = 0; d < shape.databases; d++) {
      databaseValues(shape, d, values);
      writeSync(npy, new Uint8Array(values.buffer));
      const file = join(dir, 'parquet', `${databaseName(d)}.parquet`);
      parquetWriteFile({
        filename: file,
        rowGroupSize: shape.hours,
        columnData: [
          { name: 'ts', data: times, type: 'TIMESTAMP', nullable: false },
          // PLAIN: the writer would try a dictionary for every column first, and drop it (the values are distinct).
          ...METRICS.map((name, m) => ({ name, data: values.slice(m * shape.hours, (m + 1) * shape.hours), type: 'DOUBLE' as const, nullable: false, encoding: 'PLAIN' as const })),
        ],
      });
      parquetBytes += statSync(file).size;
      if ((d + 1) % 500 === 0) log(`  ${d + 1}/${shape.databases} databases`);
    }
  } finally {
    closeSync(npy);
  }
  writeFileSync(paths.splitPath, fileSplit(shape));
  const generatedSeconds = (performance.now() - started) / 1000;
  writeFileSync(marker, `${JSON.stringify({ ...shape, series, parquetBytes, generatedSeconds })}\n`);
  return { ...shape, dir, series, ...paths, parquetBytes, generatedSeconds, cached: false };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The split of the Parquet fleet: one row per series, its database's file and its metric's column. */
function fileSplit(shape: FleetShape): string {
  const [train, test] = [trainRange(shape), testRange(shape)];
  const ranges = `${iso(train.from)},${iso(train.to)},${iso(test.from)},${iso(test.to)}`;
  const lines = ['id,file,column,train_from,train_to,test_from,test_to,tier'];
  for (let d = 0; d < shape.databases; d++) {
    for (let m = 0; m < METRICS.length; m++) lines.push(`${seriesId(d, m)},parquet/${databaseName(d)}.parquet,${METRICS[m]},${ranges},${tierOf(d)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The split of the database fleet: the same series, read from table `tableOf(d)` of database `database`. */
export function databaseSplit(shape: FleetShape, database: string, tableOf: (d: number) => string): string {
  const [train, test] = [trainRange(shape), testRange(shape)];
  const ranges = `${iso(train.from)},${iso(train.to)},${iso(test.from)},${iso(test.to)}`;
  const lines = ['id,database,table,column,train_from,train_to,test_from,test_to,tier'];
  for (let d = 0; d < shape.databases; d++) {
    for (let m = 0; m < METRICS.length; m++) lines.push(`${seriesId(d, m)},${database},${tableOf(d)},${METRICS[m]},${ranges},${tierOf(d)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The header of a little-endian float64 C-order `.npy` file (format 1.0), padded so the data starts 64-aligned. */
function npyHeader(shape: readonly number[]): Uint8Array {
  const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const text = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const header = new Uint8Array(10 + text.length);
  header.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0], 0);
  new DataView(header.buffer).setUint16(8, text.length, true);
  header.set(Buffer.from(text, 'latin1'), 10);
  return header;
}
