// A small generated fleet for the trainMany tests: hourly metric series (seeded AR(2) processes around a level,
// with noise), written as PostgreSQL tables, Parquet files and CSV files, the split CSV naming their slices, and
// the model each slice should get, computed in this process with evaluate() on the same values.
// (No node:test import: the child process of the resume test uses it too.)
import { writeFileSync } from 'node:fs';
import type pg from 'pg';
import { parquetWriteFile } from 'hyparquet-writer';
import { evaluate, type EvaluatedModel, type ModelFamily, type TimeRange } from '../src/index.js';

export const HOUR = 3_600_000;
export const START = Date.UTC(2024, 0, 1);

export interface FleetSource {
  name: string;
  /** ms since the epoch, one per hour from START. */
  times: Float64Array;
  /** Values by metric column; NaN is written as a missing value. */
  values: Map<string, Float64Array>;
}

/** A deterministic generator, so every run writes the same fleet. */
import { seededRandom as random } from '@loom/testing';

export { random };

/** x[t] = level + 0.6 (x[t-1] - level) - 0.2 (x[t-2] - level) + noise. */
export function arSeries(seed: number, n: number): Float64Array {
  const next = random(seed);
  const level = 10 + 90 * next();
  const out = new Float64Array(n);
  let a = 0;
  let b = 0;
  for (let t = 0; t < n; t++) {
    const noise = (next() + next() + next() - 1.5) * 2;
    const x = 0.6 * a - 0.2 * b + noise;
    b = a;
    a = x;
    out[t] = level + x;
  }
  return out;
}

export function fleetSource(name: string, metrics: readonly string[], hours: number, seed: number): FleetSource {
  const times = Float64Array.from({ length: hours }, (_, t) => START + t * HOUR);
  const values = new Map(metrics.map((metric, m) => [metric, arSeries(seed * 1000 + m, hours)]));
  return { name, times, values };
}

/** A table `ts timestamptz, <metric> float8, ...` holding the source (NaN as NULL). */
export async function writeTable(client: pg.Client, source: FleetSource, timeType = 'timestamptz'): Promise<void> {
  const metrics = [...source.values.keys()];
  const columns = metrics.map((metric) => `${client.escapeIdentifier(metric)} float8`).join(', ');
  await client.query(`CREATE TABLE ${client.escapeIdentifier(source.name)} (ts ${timeType}, ${columns})`);
  const arrays = metrics.map((metric) => Array.from(source.values.get(metric) as Float64Array, (v) => (Number.isNaN(v) ? null : v)));
  const times = timeType === 'timestamptz' || timeType === 'timestamp' ? Array.from(source.times, (t) => new Date(t).toISOString()) : Array.from(source.times);
  const unnest = [`$1::${timeType === 'timestamptz' || timeType === 'timestamp' ? 'text' : timeType}[]`, ...metrics.map((_, m) => `$${m + 2}::float8[]`)];
  const cast = timeType === 'timestamptz' || timeType === 'timestamp' ? `t::${timeType}` : 't';
  await client.query({
    text: `INSERT INTO ${client.escapeIdentifier(source.name)} SELECT ${cast}, ${metrics.map((_, m) => `v${m}`).join(', ')} FROM unnest(${unnest.join(', ')}) AS u(t, ${metrics.map((_, m) => `v${m}`).join(', ')})`,
    values: [times, ...arrays],
  });
}

/** A Parquet file: `ts` as a TIMESTAMP column, each metric a nullable DOUBLE; `rowGroupSize` rows per group. */
export function writeParquet(path: string, source: FleetSource, rowGroupSize = 100): void {
  parquetWriteFile({
    filename: path,
    rowGroupSize,
    columnData: [
      { name: 'ts', data: Array.from(source.times, (t) => new Date(t)), type: 'TIMESTAMP', nullable: false },
      ...[...source.values].map(([name, values]) => ({ name, data: Array.from(values, (v) => (Number.isNaN(v) ? null : v)), type: 'DOUBLE' as const })),
    ],
  });
}

/** A CSV file: `ts` as ISO timestamps, each metric a number (empty where missing). */
export function writeCsv(path: string, source: FleetSource): void {
  const metrics = [...source.values.keys()];
  const lines = [['ts', ...metrics].join(',')];
  source.times.forEach((t, i) => {
    lines.push([new Date(t).toISOString(), ...metrics.map((metric) => {
      const value = (source.values.get(metric) as Float64Array)[i] as number;
      return Number.isNaN(value) ? '' : String(value);
    })].join(','));
  });
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** A split CSV: the header is the first row's keys. */
export function writeSplit(path: string, rows: ReadonlyArray<Record<string, string | number>>): void {
  const header = Object.keys(rows[0] ?? {});
  const cell = (value: string | number | undefined): string => (typeof value === 'number' ? new Date(value).toISOString() : (value ?? ''));
  writeFileSync(path, `${[header.join(','), ...rows.map((row) => header.map((name) => cell(row[name])).join(','))].join('\n')}\n`);
}

/** The model of `metric` of `source` over these ranges, as trainBatch should produce it. */
export function expectedModel(family: ModelFamily, source: FleetSource, metric: string, train: TimeRange, test: TimeRange): EvaluatedModel {
  const values = source.values.get(metric) as Float64Array;
  const cut = (range: TimeRange): [number, number] => {
    const inside = (t: number): boolean => t >= range.from && t < range.to;
    const first = source.times.findIndex(inside);
    let last = first;
    while (last >= 0 && last < source.times.length && inside(source.times[last] as number)) last++;
    return first < 0 ? [0, 0] : [first, last];
  };
  const [a, b] = cut(train);
  const [c, d] = cut(test);
  return evaluate(family, { train: values.subarray(a, b), test: values.subarray(c, d), trainTimes: source.times.subarray(a, b), testTimes: source.times.subarray(c, d) });
}
