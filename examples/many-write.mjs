// Writing the demo's fleet where trainMany reads it: one Parquet file per database (a `ts` TIMESTAMP column and
// one DOUBLE column per metric), one PostgreSQL table per database (loaded with a binary COPY), and the split CSV naming
// one slice per (database, metric) in either shape, with the database's host, metric and tier passed through.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parquetWriteFile } from 'hyparquet-writer';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** The PostgreSQL schema the demo's tables go in (dropped and made again on every run). */
export const SCHEMA = 'loom_demo_fleet';

/** Whether a PostgreSQL server answers at `url`. */
export async function reachable(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Writes `<dir>/<database>.parquet` for every database; returns the paths. */
export function writeParquetFleet(fleet, dir) {
  mkdirSync(dir, { recursive: true });
  const timestamps = Array.from(fleet.times, (t) => new Date(t));
  return fleet.databases.map((db) => {
    const path = join(dir, `${db.name}.parquet`);
    parquetWriteFile({
      filename: path,
      // Uncompressed: snappy takes most of the writing time and gains little on noisy doubles.
      codec: 'UNCOMPRESSED',
      columnData: [
        { name: 'ts', data: timestamps, type: 'TIMESTAMP', nullable: false },
        ...[...db.metrics].map(([name, values]) => ({ name, data: Array.from(values, (v) => (Number.isNaN(v) ? null : v)), type: 'DOUBLE' })),
      ],
    });
    return path;
  });
}

/**
 * Loads every database's metrics into `<SCHEMA>.<database>` (ts timestamptz, one float8 column per metric), over
 * a few connections at once, each table with one COPY in PostgreSQL's binary format: the doubles go as their
 * 8 bytes (the table holds exactly what the Parquet files hold) and the server parses no number text. The
 * tables are UNLOGGED: demo data, made again each run, needs no write-ahead log.
 */
export async function writePostgresFleet(fleet, url, connections = 4) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  } finally {
    await admin.end();
  }
  const queue = [...fleet.databases];
  const load = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // Commits need not wait for the disk: a crash would only lose demo tables that the next run makes again.
      await client.query('SET synchronous_commit TO off');
      for (let db = queue.shift(); db !== undefined; db = queue.shift()) {
        const table = `${SCHEMA}.${client.escapeIdentifier(db.name)}`;
        const columns = [...db.metrics.keys()].map((name) => client.escapeIdentifier(name));
        await client.query(`CREATE UNLOGGED TABLE ${table} (ts timestamptz NOT NULL, ${columns.map((c) => `${c} float8`).join(', ')})`);
        const copy = client.query(copyFrom(`COPY ${table} (ts, ${columns.join(', ')}) FROM STDIN (FORMAT binary)`));
        await pipeline(Readable.from([binaryCopy(fleet.times, [...db.metrics.values()])]), copy);
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: connections }, load));
}

/** Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01. */
const PG_EPOCH_US = 946_684_800_000_000n;

/**
 * COPY's binary format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4): a signature,
 * then per row the field count and each field as a length and its bytes (length -1 for NULL), then -1.
 */
function binaryCopy(times, series) {
  const rowBytes = 2 + 12 + 12 * series.length;
  const buffer = Buffer.alloc(19 + rowBytes * times.length + 2);
  let at = buffer.write('PGCOPY\n\xff\r\n\0', 0, 'latin1');
  at = buffer.writeInt32BE(0, at); // flags
  at = buffer.writeInt32BE(0, at); // header extension length
  for (let h = 0; h < times.length; h++) {
    at = buffer.writeInt16BE(1 + series.length, at);
    at = buffer.writeInt32BE(8, at);
    at = buffer.writeBigInt64BE(BigInt(times[h]) * 1000n - PG_EPOCH_US, at);
    for (const values of series) {
      const value = values[h];
      if (Number.isNaN(value)) {
        at = buffer.writeInt32BE(-1, at);
      } else {
        at = buffer.writeInt32BE(8, at);
        at = buffer.writeDoubleBE(value, at);
      }
    }
  }
  at = buffer.writeInt16BE(-1, at);
  return buffer.subarray(0, at);
}

/** The slices of the fleet: one per (database, metric), the last `testDays` days the test range. */
export function fleetSlices(fleet, testDays) {
  const from = fleet.start;
  const split = fleet.start + (fleet.hours - testDays * 24) * 3_600_000;
  const to = fleet.start + fleet.hours * 3_600_000;
  const iso = (t) => new Date(t).toISOString();
  return fleet.databases.flatMap((db) =>
    fleet.metrics.map((metric) => ({
      id: `${db.name}/${metric}`, database: db.name, metric, tier: db.tier,
      train_from: iso(from), train_to: iso(split), test_from: iso(split), test_to: iso(to),
    })),
  );
}

/** A split CSV of the slices in the file-rows shape (the Parquet files) or the database-rows shape (the tables). */
export function writeSplitCsv(path, slices, shape) {
  const header = shape === 'file'
    ? ['id', 'file', 'column', 'train_from', 'train_to', 'test_from', 'test_to', 'host', 'metric', 'tier']
    : ['id', 'database', 'table', 'column', 'train_from', 'train_to', 'test_from', 'test_to', 'host', 'metric', 'tier'];
  const lines = [header.join(',')];
  for (const s of slices) {
    const where = shape === 'file' ? [`fleet/${s.database}.parquet`] : ['warehouse', `${SCHEMA}.${s.database}`];
    lines.push([s.id, ...where, s.metric, s.train_from, s.train_to, s.test_from, s.test_to, s.database, s.metric, s.tier].join(','));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}
