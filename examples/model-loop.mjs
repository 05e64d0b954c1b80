#!/usr/bin/env node
// `npm run demo:loop`: the many-models loop end to end on a local cluster: train one model per metric series,
// score the test week in batch (written as Parquet), serve the models over REST (KServe v2), detect which series
// drifted, retrain only those, and see the server switch to the new version while every other model stays
// byte-identical. The fleet is generated (hourly metrics of a few hundred databases with spikes and level shifts
// injected) and written as Parquet files, one per database, with a split CSV.
//
//   --databases N (100)  --metrics N (20)  --days N (30)  --test-days N (7)  --method psi|ks|page-hinkley (ks)
//   --workers N (2)  --seed N (3)  --out DIR (.loom/demo-loop)
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, LocalCluster } from '@loom/client';
import { ar, detectDrift, ModelStore, readSplit, scoreMany, trainMany } from '@loom/models';
import { serve } from '@loom/serve';
import { generateFleet } from './many-fleet.mjs';
import { fleetSlices, writeParquetFleet, writeSplitCsv } from './many-write.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    databases: { type: 'string', default: '100' },
    metrics: { type: 'string', default: '20' },
    days: { type: 'string', default: '30' },
    'test-days': { type: 'string', default: '7' },
    method: { type: 'string', default: 'ks' },
    workers: { type: 'string', default: '2' },
    seed: { type: 'string', default: '3' },
    out: { type: 'string', default: join(root, '.loom', 'demo-loop') },
  },
});
const int = (name, min, max) => {
  const value = Number(args[name]);
  if (!(Number.isInteger(value) && value >= min && value <= max)) throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${args[name]}`);
  return value;
};
const databases = int('databases', 1, 10_000);
const metrics = int('metrics', 1, 50);
const days = int('days', 3, 3650);
const testDays = int('test-days', 1, days - 2);
const workers = int('workers', 1, 64);
const seed = int('seed', 0, 2 ** 31);
const method = args.method;
if (!['psi', 'ks', 'page-hinkley'].includes(method)) throw new Error(`--method must be psi, ks or page-hinkley, got ${method}`);

const say = (message = '') => process.stdout.write(`${message}\n`);
const started = performance.now();
const clock = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const n = (value) => value.toLocaleString('en-US');
const out = resolve(args.out);
const shown = (path) => relative(process.cwd(), path) || '.';
const DAY = 86_400_000;

const clusterStarting = LocalCluster.start({ workers, threadsPerWorker: 1 });
clusterStarting.catch(() => undefined); // awaited below

// 1. Data: a month of hourly metrics, as Parquet files, and two splits: the first trains on all but the last
// week and tests on it; the second (for retraining) trains on the whole month but its last day.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const fleet = generateFleet({ databases, metrics, days, seed, start: Date.UTC(2024, 5, 1) });
writeParquetFleet(fleet, join(out, 'fleet'));
const slices = fleetSlices(fleet, testDays);
const splitPath = join(out, 'split.csv');
writeSplitCsv(splitPath, slices, 'file');
const end = fleet.start + fleet.hours * 3_600_000;
const iso = (t) => new Date(t).toISOString();
const retrainPath = join(out, 'split-retrain.csv');
writeSplitCsv(retrainPath, slices.map((s) => ({ ...s, train_from: iso(fleet.start), train_to: iso(end - DAY), test_from: iso(end - DAY), test_to: iso(end) })), 'file');
const testFrom = Date.parse(slices[0].test_from);
const shifted = new Set(fleet.injected.filter((e) => e.kind === 'shift' && e.time >= testFrom).map((e) => e.id));
say(`Fleet: ${n(slices.length)} series (${n(databases)} databases x ${metrics} metrics, ${days} days hourly) in ${shown(join(out, 'fleet'))}; ` +
  `${n(shifted.size)} series shift level during the test week (${clock()})`);

const cluster = await clusterStarting;
const client = await Client.connect(cluster.address);
let server;
try {
  const store = await ModelStore.open(join(out, 'models'));
  const split = await readSplit(splitPath);
  const family = ar({ p: 8 });

  // 2. Train one model per series.
  const first = await trainMany(client, { split, family, store, group: 'fleet' });
  say(`\n1. trainMany: ${n(first.trained)} ${family.key()} models as version ${first.version} of group "fleet", ${n(first.failed.length)} slices not trained (${first.seconds.toFixed(1)} s)`);

  // 3. Score the test week in batch, on the workers; write the scores as Parquet, one file per partition.
  const scores = scoreMany(client, { store, group: 'fleet', split });
  const written = await scores.toParquet(join(out, 'scores'), { client });
  const anomalies = await scores.filter((row) => row.anomaly).compute();
  const files = readdirSync(join(out, 'scores')).filter((f) => f.endsWith('.parquet')).length;
  say(`2. scoreMany: ${n(written.rows)} scored values in ${files} Parquet files under ${shown(join(out, 'scores'))}; ${n(anomalies.numRows)} outside their band (${clock()})`);

  // 4. Serve the models over REST and ask for one forecast, as any KServe v2 client would.
  server = await serve(store, { port: 0 });
  const id = slices[0].id;
  const recent = fleet.databases[0].metrics.get(slices[0].metric).slice(-24);
  const body = { inputs: [
    { name: 'ids', datatype: 'BYTES', shape: [1], data: [id] },
    { name: 'values', datatype: 'FP64', shape: [1, recent.length], data: [...recent] },
  ] };
  const infer = async () => {
    const response = await fetch(`${server.url}/v2/models/fleet/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`infer answered ${response.status}: ${await response.text()}`);
    const answer = await response.json();
    const output = (name) => answer.outputs.find((o) => o.name === name).data[0];
    return { version: answer.model_version, forecast: output('forecast'), lower: output('lower'), upper: output('upper'), anomaly: output('anomaly') };
  };
  const before = await infer();
  say(`3. loom serve at ${server.url}: ${id} next hour ${before.forecast.toFixed(2)} in [${before.lower.toFixed(2)}, ${before.upper.toFixed(2)}], ` +
    `last value ${before.anomaly ? 'an anomaly' : 'normal'} (model version ${before.version})`);
  say(`     curl -s ${server.url}/v2/models/fleet/infer -d '${JSON.stringify(body).slice(0, 150)}...'`);

  // 5. Which series drifted during the test week?
  const drift = await detectDrift(client, { store, group: 'fleet', split, method });
  const drifted = drift.drifted();
  const found = drifted.filter((d) => shifted.has(d)).length;
  say(`4. detectDrift (${method}): ${n(drifted.length)} of ${n(slices.length)} series drifted; ${n(found)} of the ${n(shifted.size)} level shifts ` +
    `found, ${n(drifted.length - found)} others flagged (${clock()})`);

  // 6. Retrain only those, on data that includes the test week; the rest is carried forward untouched.
  if (drifted.length > 0) {
    const retrainSplit = await readSplit(retrainPath);
    const second = await trainMany(client, { split: retrainSplit, family, store, group: 'fleet', only: drifted });
    const [v1, v2] = [await store.open('fleet', first.version), await store.open('fleet', second.version)];
    const same = (a, b) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
    const unchanged = v1.ids.filter((m) => !drifted.includes(m) && v2.has(m) && same(v1.params(m), v2.params(m))).length;
    // The server notices the publish through its watch on the store, within milliseconds: ask until it has.
    let after = await infer();
    for (const deadline = Date.now() + 10_000; after.version !== String(second.version) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      after = await infer();
    }
    say(`5. trainMany({ only }): version ${second.version} retrained ${n(second.trained)}, carried ${n(second.carried)} forward; ` +
      `${n(unchanged)} of ${n(v1.size - drifted.length)} untouched models identical to the bit`);
    say(`   loom serve now answers from version ${after.version} without a restart`);
  }
  say(`\nDone in ${clock()}. Look closer: npm run loom -- models show fleet --store ${shown(join(out, 'models'))}`);
} finally {
  await server?.close();
  await client.close();
  await cluster.close();
}
