#!/usr/bin/env node
// `npm run demo:many`: one anomaly-detection model per metric series of a database fleet, trained with
// trainMany on a local Loom cluster and published to a model store. A month of hourly metrics of 200 databases
// x 50 metrics (10,000 series, with spikes and level shifts injected) is written to PostgreSQL (one table per
// database, by COPY) and to Parquet (one file per database), with a split CSV of each shape; each is trained
// with AR(8) into its own group; then the stored models score the test week, and the anomalies they flag are
// checked against the injected ones.
//
// PostgreSQL: $LOOM_PG_URL, else the local server scripts/services.mjs sets up for the tests (installed and
// started when missing, as root). When none can be had, the demo runs the Parquet half and says why.
//
//   --databases N (200)  --metrics N (50, at most 50)  --days N (30)  --test-days N (7)
//   --workers N (2)  --k K (band half-width in sigmas, 4)  --seed N (1)  --out DIR (.loom/demo-many)  --no-postgres
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, LocalCluster } from '@loom/client';
import { ar, ModelStore, ProgressReporter, readSplit, runSummary, trainMany } from '@loom/models';
import { ensurePostgres, PG_URL } from '../scripts/services.mjs';
import { CONSTANT_ON_PRIMARY, generateFleet, METRICS, MISSING_ON_OLD_AGENTS } from './many-fleet.mjs';
import { ALERT_GAP_HOURS, DETECT_WITHIN_HOURS, detectionFigures, sampleAlerts, scoreFleet } from './many-score.mjs';
import { fleetSlices, reachable, SCHEMA, writeParquetFleet, writePostgresFleet, writeSplitCsv } from './many-write.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    databases: { type: 'string', default: '200' },
    metrics: { type: 'string', default: '50' },
    days: { type: 'string', default: '30' },
    'test-days': { type: 'string', default: '7' },
    workers: { type: 'string', default: '2' },
    k: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: join(root, '.loom', 'demo-many') },
    'no-postgres': { type: 'boolean', default: false },
  },
});
const number = (name, min, max) => {
  const value = Number(args[name]);
  if (!(Number.isFinite(value) && value >= min && value <= max)) throw new Error(`--${name} must be a number in [${min}, ${max}], got ${args[name]}`);
  return value;
};
const options = {
  databases: number('databases', 1, 100_000),
  metrics: number('metrics', 1, METRICS.length),
  days: number('days', 2, 3650),
  testDays: number('test-days', 1, 3649),
  workers: number('workers', 1, 64),
  k: number('k', 0.5, 20),
  seed: number('seed', 0, 2 ** 31),
};
if (options.testDays >= options.days) throw new Error('--test-days must be fewer than --days');

const say = (message = '') => process.stdout.write(`${message}\n`);
const started = performance.now();
const clock = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const n = (value) => value.toLocaleString('en-US');
const pct = (share) => (Number.isNaN(share) ? '-' : `${(100 * share).toFixed(1)} %`);
const out = resolve(args.out);
const shown = (path) => relative(process.cwd(), path) || '.';

// The cluster starts while the data is generated and written (a few seconds either way).
const clusterStarting = LocalCluster.start({ workers: options.workers, threadsPerWorker: 1 });
clusterStarting.catch(() => undefined); // awaited below

const start = Date.UTC(2024, 5, 1);
let data;
try {
  data = await writeData();
} catch (error) {
  await (await clusterStarting.catch(() => undefined))?.close();
  throw error;
}
const { fleet, testFrom, halves } = data;

const cluster = await clusterStarting;
let client;
try {
  client = await Client.connect(cluster.address);
  say(`Cluster: ${options.workers} workers x 1 thread at ${cluster.address} (${clock()})`);
  const store = await ModelStore.open(join(out, 'models'));
  const family = ar({ p: 8, k: options.k });
  const groups = [];
  for (const half of halves) {
    say();
    say(`Training ${family.key()} from ${half.name === 'postgres' ? 'PostgreSQL' : 'Parquet'} into group ${half.group} of ${shown(store.dir)}:`);
    const split = await readSplit(half.split, half.connections === undefined ? {} : { connections: half.connections });
    const reporter = new ProgressReporter(process.stdout, { label: '  progress', plainEveryMs: 1000 });
    let result;
    try {
      result = await trainMany(client, { split, family, store, group: half.group, onProgress: reporter.report });
    } finally {
      reporter.finish();
    }
    const group = await store.open(half.group, result.version);
    for (const line of runSummary(result, group)) say(`  ${line}`);
    await store.prune(half.group, { keep: 3, stages: true });
    groups.push({ ...half, group, result });
  }

  if (groups.length === 2) {
    const [a, b] = groups.map((g) => g.group);
    const same = a.ids.filter((id) => b.has(id) && a.params(id).every((v, i) => Object.is(v, b.params(id)[i]))).length;
    say();
    say(same === a.size && same === b.size
      ? `PostgreSQL and Parquet agree: the ${n(same)} models trained from each are identical to the last bit (the same values, read two ways).`
      : `PostgreSQL and Parquet DISAGREE: ${n(same)} identical models of ${n(a.size)} from PostgreSQL and ${n(b.size)} from Parquet.`);
  }

  const scored = groups.at(-1);
  const scoring = performance.now();
  const result = scoreFleet({ family, group: scored.group, fleet, testFrom });
  const stored = scored.group.metric('anomalies').reduce((sum, v) => sum + v, 0);
  const figures = detectionFigures(result);
  say();
  say(`Scoring the test week with the ${n(scored.group.size)} stored models of ${scored.group.name} version ${scored.group.version} ` +
    `(one-step forecasts, band +-${options.k} sigma): ${n(result.flags)} values flagged, as counted at training (${n(stored)}), in ${n(figures.alerts)} alerts ` +
    `(${((performance.now() - scoring) / 1000).toFixed(2)} s)`);
  say(`  injected in the test week: ${figures.kinds.map((k) => `${n(k.injected)} ${k.kind === 'spike' ? 'spikes' : 'level shifts'}`).join(', ')}; ` +
    `detected (an alert within ${DETECT_WITHIN_HOURS} h): ${figures.kinds.map((k) => `${n(k.detected)} ${k.kind === 'spike' ? 'spikes' : 'shifts'}`).join(', ')}: recall ${pct(figures.recall)}`);
  say(`  alerts (flags less than ${ALERT_GAP_HOURS} h apart): ${n(figures.alerts)}: ${n(figures.onset)} open at an injected anomaly, ` +
    `${n(figures.repeat)} repeat a level shift (the model predates it: retrain), ${n(figures.false)} false: precision ${pct(figures.precision)}`);
  say();
  say(`  ${'series'.padEnd(26)}${'time (UTC)'.padEnd(18)}${'value'.padStart(10)}${'forecast'.padStart(10)}  ${'band'.padEnd(20)}${'sigmas'.padStart(7)}  what`);
  for (const alert of sampleAlerts(result.alerts)) {
    const p = alert.points[0];
    const sigmas = ((p.value - p.predicted) / ((p.upper - p.lower) / (2 * options.k))).toFixed(1);
    const injected = alert.injected;
    const what = injected !== undefined
      ? `injected ${injected.kind === 'spike' ? 'spike' : 'level shift'} (${injected.size > 0 ? '+' : ''}${injected.size.toFixed(1)} noise sd)`
      : alert.cause === 'repeat' ? 'repeat of a level shift' : 'false alert';
    const time = new Date(p.time).toISOString().slice(0, 16).replace('T', ' ');
    const band = `[${p.lower.toFixed(2)}, ${p.upper.toFixed(2)}]`;
    say(`  ${alert.id.padEnd(26)}${time.padEnd(18)}${p.value.toFixed(2).padStart(10)}${p.predicted.toFixed(2).padStart(10)}  ${band.padEnd(20)}${sigmas.padStart(7)}  ` +
      `${what}${alert.points.length > 1 ? `, ${alert.points.length} flags` : ''}`);
  }
  say();
  say(`Done in ${clock()} on ${availableParallelism()} CPUs (load average ${loadavg().map((l) => l.toFixed(2)).join(', ')}). ` +
    `Look closer: npm run loom -- models show ${scored.group.name} --store ${shown(store.dir)}`);
} finally {
  await client?.close();
  await cluster.close();
}

/** Generates the fleet and writes it as Parquet files and, when a server can be had, PostgreSQL tables, with their splits. */
async function writeData() {
  const fleet = generateFleet({ ...options, start });
  const series = fleet.databases.reduce((sum, db) => sum + db.metrics.size, 0);
  const spikes = fleet.injected.filter((e) => e.kind === 'spike').length;
  const shifts = fleet.injected.length - spikes;
  say(`Fleet: ${n(options.databases)} databases x ${options.metrics} metrics, ${n(fleet.hours)} hourly values each ` +
    `(${new Date(start).toISOString().slice(0, 10)} .. ${new Date(start + fleet.hours * 3_600_000).toISOString().slice(0, 10)}): ` +
    `${n(series)} series, ${(series * fleet.hours / 1e6).toFixed(1)} M values (${clock()})`);
  say(`  injected: ${n(spikes)} spikes (6-12 noise sd), ${n(shifts)} level shifts (5-9 sd); and the usual mess: ` +
    `${CONSTANT_ON_PRIMARY} constant 0 on the primaries, scrape gaps, old agents without ${MISSING_ON_OLD_AGENTS}`);

  rmSync(join(out, 'fleet'), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const files = writeParquetFleet(fleet, join(out, 'fleet'));
  const bytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
  const slices = fleetSlices(fleet, options.testDays);
  const testFrom = Date.parse(slices[0].test_from);
  writeSplitCsv(join(out, 'split.csv'), slices, 'file');
  say(`Parquet: ${n(files.length)} files, ${(bytes / 2 ** 20).toFixed(1)} MiB in ${shown(join(out, 'fleet'))}; split ${shown(join(out, 'split.csv'))} (${clock()})`);

  const halves = [];
  const postgres = await preparePostgres(fleet);
  if (postgres.url !== undefined) {
    writeSplitCsv(join(out, 'split-postgres.csv'), slices, 'database');
    say(`PostgreSQL: ${n(fleet.databases.length)} tables in schema ${SCHEMA} at ${redacted(postgres.url)}, loaded by COPY; split ${shown(join(out, 'split-postgres.csv'))} (${clock()})`);
    halves.push({ name: 'postgres', group: 'fleet-postgres', split: join(out, 'split-postgres.csv'), connections: { warehouse: postgres.url } });
  } else {
    rmSync(join(out, 'split-postgres.csv'), { force: true });
    say(`PostgreSQL: skipped, ${postgres.why}; training from Parquet only`);
  }
  halves.push({ name: 'parquet', group: 'fleet-parquet', split: join(out, 'split.csv') });
  return { fleet, testFrom, halves };
}

/** `{ url }` of a PostgreSQL server holding the fleet, or `{ why }` it cannot be had. */
async function preparePostgres(fleet) {
  if (args['no-postgres']) return { why: 'as --no-postgres asks' };
  let url = process.env.LOOM_PG_URL;
  if (url === undefined || url === '') {
    // The tests' server when it already runs; else set it up as the tests do (install and start it, as root).
    url = PG_URL;
    if (!(await reachable(url))) {
      try {
        ensurePostgres();
      } catch (error) {
        return { why: `no PostgreSQL here (${firstLine(error)}); set LOOM_PG_URL to use a server of yours` };
      }
    }
  }
  try {
    await writePostgresFleet(fleet, url);
    return { url };
  } catch (error) {
    return { why: `writing to ${redacted(url)} failed (${firstLine(error)})` };
  }
}

function firstLine(error) {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}

function redacted(url) {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

