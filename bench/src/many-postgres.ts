// bench:many's database fleet: the first databases of the generated fleet as PostgreSQL tables, one per
// monitored database (`ts timestamptz primary key`, one float8 column per metric), loaded with COPY, and a
// database-rows split naming them. The load is cached: a small table records which fleet the tables hold.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { databaseName, databaseSplit, databaseValues, fleetKey, HOUR, METRICS, START, type FleetShape } from './many-fleet.js';

/** The database name the split uses; the bench maps it to the PostgreSQL URL. */
export const PG_DATABASE = 'metrics';
const TABLE_PREFIX = 'bench_many_';
const MARKER_TABLE = `${TABLE_PREFIX}fleet`;
export const tableOf = (d: number): string => `${TABLE_PREFIX}${databaseName(d)}`;

export interface PostgresFleet {
  url: string;
  splitPath: string;
  series: number;
  /** Seconds COPY took (0 when the tables were loaded already). */
  loadSeconds: number;
  cached: boolean;
}

/**
 * The PostgreSQL URL to use: LOOM_BENCH_PG_URL, else the test database, started by scripts/services.mjs as the
 * tests start it. Undefined (with the reason logged) when neither works.
 */
export function postgresUrl(log: (message: string) => void): string | undefined {
  const given = process.env['LOOM_BENCH_PG_URL'];
  if (given !== undefined) return given;
  const services = fileURLToPath(new URL('../../scripts/services.mjs', import.meta.url));
  const started = spawnSync(process.execPath, [services], { encoding: 'utf8' });
  if (started.status !== 0) {
    log(`PostgreSQL unavailable (scripts/services.mjs: ${started.stderr.trim().split('\n').slice(-2).join(' ')}): no database row`);
    return undefined;
  }
  return 'postgres://loom:loom@127.0.0.1:5432/loom_test';
}

export async function postgresFleet(url: string, shape: FleetShape, dataDir: string, log: (message: string) => void): Promise<PostgresFleet> {
  const key = fleetKey(shape);
  const splitPath = join(dataDir, `split-pg-${shape.databases}.csv`);
  writeFileSync(splitPath, databaseSplit(shape, PG_DATABASE, tableOf));
  const series = shape.databases * METRICS.length;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if ((await loadedKey(client)) === key) return { url, splitPath, series, loadSeconds: 0, cached: true };
    log(`loading ${series.toLocaleString('en')} series (${shape.databases} tables x ${METRICS.length} metrics) into PostgreSQL with COPY`);
    const started = performance.now();
    await dropFleet(client);
    const columns = METRICS.map((metric) => `${metric} float8 NOT NULL`).join(', ');
    const values = new Float64Array(METRICS.length * shape.hours);
    for (let d = 0; d < shape.databases; d++) {
      await client.query(`CREATE TABLE ${tableOf(d)} (ts timestamptz PRIMARY KEY, ${columns})`);
      databaseValues(shape, d, values);
      const stream = client.query(copyFrom(`COPY ${tableOf(d)} (ts, ${METRICS.join(', ')}) FROM STDIN`));
      await pipeline(Readable.from(copyRows(values, shape.hours)), stream);
    }
    await client.query(`CREATE TABLE ${MARKER_TABLE} (key text NOT NULL)`);
    await client.query(`INSERT INTO ${MARKER_TABLE} VALUES ($1)`, [key]);
    return { url, splitPath, series, loadSeconds: (performance.now() - started) / 1000, cached: false };
  } finally {
    await client.end();
  }
}

async function loadedKey(client: pg.Client): Promise<string | undefined> {
  const exists = await client.query<{ found: string | null }>(`SELECT to_regclass($1) AS found`, [MARKER_TABLE]);
  if (exists.rows[0]?.found == null) return undefined;
  const result = await client.query<{ key: string }>(`SELECT key FROM ${MARKER_TABLE}`);
  return result.rows[0]?.key;
}

/** Drops the marker first, so an interrupted load is never taken for a complete one. */
async function dropFleet(client: pg.Client): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${MARKER_TABLE}`);
  const tables = await client.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1`, [`${TABLE_PREFIX}db%`]);
  for (const { tablename } of tables.rows) await client.query(`DROP TABLE ${client.escapeIdentifier(tablename)}`);
}

/** COPY text rows of one table: the hour, then every metric's value (shortest round-trip text, so exact). */
function* copyRows(values: Float64Array, hours: number): Generator<string> {
  for (let t = 0; t < hours; t++) {
    let line = new Date(START + t * HOUR).toISOString();
    for (let m = 0; m < METRICS.length; m++) line += `\t${values[m * hours + t]}`;
    yield `${line}\n`;
  }
}
