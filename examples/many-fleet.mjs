// The demo's fleet: hourly metrics of many databases, generated from a seed (the same seed, the same fleet).
// Each series is a level, a daily cycle and AR(1) noise, rounded to 3 decimals as a collector would store it,
// with the anomalies the demo should find injected (spikes and level shifts, each recorded with its time) and
// the mess a real fleet has: primaries whose replication lag is always 0 (a constant series: nothing to fit),
// scrape gaps (missing values: families do not impute), and old agents that never reported one metric (the
// column is missing from their table and file).

export const HOUR = 3_600_000;

export const METRICS = [
  'cpu_user', 'cpu_system', 'cpu_iowait', 'load_1m', 'mem_used_mb', 'mem_cached_mb', 'swap_used_mb', 'disk_read_iops',
  'disk_write_iops', 'disk_read_mb', 'disk_write_mb', 'disk_used_gb', 'net_rx_mb', 'net_tx_mb', 'conn_active',
  'conn_idle', 'conn_waiting', 'tps_commit', 'tps_rollback', 'qps_select', 'qps_insert', 'qps_update', 'qps_delete',
  'rows_fetched', 'rows_returned', 'cache_hits', 'buffers_alloc', 'checkpoints', 'wal_mb', 'replication_lag_s',
  'locks_held', 'deadlocks', 'temp_files', 'temp_mb', 'seq_scans', 'idx_scans', 'vacuum_runs', 'autovacuum_workers',
  'bloat_mb', 'xact_age', 'longest_query_s', 'slow_queries', 'errors', 'sort_spills', 'hash_mem_mb', 'io_wait_ms',
  'fsync_ms', 'bgwriter_buffers', 'lock_wait_ms', 'replication_slots',
];

/** Metric of the constant series on primaries, and the one old agents lack. */
export const CONSTANT_ON_PRIMARY = 'replication_lag_s';
export const MISSING_ON_OLD_AGENTS = 'wal_mb';

export const RATES = {
  /** Share of series with one spike (6-12 noise sd) and with one level shift (5-9 noise sd, from then on). */
  spike: 0.06,
  shift: 0.03,
  /** Share of series with a scrape gap of 2-6 hours in the training range. */
  gap: 0.003,
  /** Every tenth database is a primary; two databases run an old agent. */
  primaryEvery: 10,
  oldAgents: 2,
};

/** A deterministic generator (mulberry32). */
function uniform(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box-Muller, both values of each pair used). */
function normals(next) {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const value = spare;
      spare = NaN;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/**
 * `{ start, hours, times, databases: [{ name, tier, oldAgent, metrics: Map(name -> Float64Array) }], injected }`;
 * `injected` lists `{ id, kind: 'spike' | 'shift', hour, time, size }` (size in noise standard deviations).
 */
export function generateFleet({ databases, metrics, days, seed, start }) {
  const hours = days * 24;
  const next = uniform(seed);
  const normal = normals(next);
  const times = Float64Array.from({ length: hours }, (_, h) => start + h * HOUR);
  const names = METRICS.slice(0, metrics);
  const oldAgents = new Set(Array.from({ length: RATES.oldAgents }, (_, i) => Math.floor(((i + 0.5) * databases) / RATES.oldAgents)));
  const injected = [];
  const fleet = [];
  for (let d = 0; d < databases; d++) {
    const name = `db${String(d).padStart(3, '0')}`;
    const tier = d % RATES.primaryEvery === 0 ? 'primary' : 'replica';
    const series = new Map();
    for (const metric of names) {
      const values = new Float64Array(hours);
      if (metric === MISSING_ON_OLD_AGENTS && oldAgents.has(d)) continue;
      if (metric === CONSTANT_ON_PRIMARY && tier === 'primary') {
        series.set(metric, values); // all 0: a primary has no replication lag
        continue;
      }
      const level = 10 ** (1 + 2 * next());
      const sd = level * (0.01 + 0.03 * next());
      const amplitude = level * 0.2 * next();
      const phase = 24 * next();
      const phi = 0.3 + 0.5 * next();
      let noise = 0;
      for (let h = 0; h < hours; h++) {
        noise = phi * noise + sd * normal();
        values[h] = level + amplitude * Math.sin((2 * Math.PI * (h - phase)) / 24) + noise;
      }
      const id = `${name}/${metric}`;
      if (next() < RATES.spike) {
        const hour = 24 + Math.floor(next() * (hours - 24));
        const size = (next() < 0.8 ? 1 : -1) * (6 + 6 * next());
        values[hour] += size * sd;
        injected.push({ id, kind: 'spike', hour, time: times[hour], size });
      }
      if (next() < RATES.shift) {
        const hour = 72 + Math.floor(next() * (hours - 96));
        const size = (next() < 0.5 ? 1 : -1) * (5 + 4 * next());
        for (let h = hour; h < hours; h++) values[h] += size * sd;
        injected.push({ id, kind: 'shift', hour, time: times[hour], size });
      }
      for (let h = 0; h < hours; h++) values[h] = Math.round(values[h] * 1000) / 1000;
      if (next() < RATES.gap) {
        const from = 24 + Math.floor(next() * (hours / 2));
        values.fill(NaN, from, from + 2 + Math.floor(next() * 5));
      }
      series.set(metric, values);
    }
    fleet.push({ name, tier, oldAgent: oldAgents.has(d), metrics: series });
  }
  return { start, hours, times, metrics: names, databases: fleet, injected };
}
