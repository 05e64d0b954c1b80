// `loom models train`, through the real `loom` binary: a file split (one Parquet file, one CSV file, one slice
// naming a missing column) trained on a local cluster of one worker, the progress line and summary it prints,
// what lands in the store (models equal to evaluate() on the same values), `--only` with carry-forward; and the
// usage errors of bad arguments (in-process, but one through the binary).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ar, isSplitError, isTrainManyError, ModelStore, type TrainManyResult } from '../src/index.js';
import { parseConnections, runTrainCommand } from '../src/cli/train-command.js';
import { tempDir } from './store-helpers.js';
import { expectedModel, fleetSource, HOUR, START, writeCsv, writeParquet, writeSplit } from './train-many-fleet.js';

const LOOM = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'cli', 'dist', 'src', 'main.js');

function loom(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, LOOM_MODEL_STORE: '' };
  delete env['LOOM_LOG_LEVEL']; // the local cluster's default (warn) is what a user gets
  return spawnSync(process.execPath, [LOOM, ...args], { encoding: 'utf8', env, timeout: 120_000 });
}

const dir = tempDir('models-train-cli');
const train = { from: START, to: START + 150 * HOUR };
const testRange = { from: START + 150 * HOUR, to: START + 200 * HOUR };
const sources = { a: fleetSource('a', ['cpu', 'mem'], 200, 1), b: fleetSource('b', ['cpu', 'mem'], 200, 2) };
const splitPath = join(dir, 'split.csv');
mkdirSync(join(dir, 'data'));
writeParquet(join(dir, 'data', 'a.parquet'), sources.a, 64);
writeCsv(join(dir, 'data', 'b.csv'), sources.b);
const slice = (id: string, file: string, column: string) => ({ id, file, column, train_from: train.from, train_to: train.to, test_from: testRange.from, test_to: testRange.to });
writeSplit(splitPath, [
  slice('a-cpu', 'data/a.parquet', 'cpu'),
  slice('a-mem', 'data/a.parquet', 'mem'),
  slice('b-cpu', 'data/b.csv', 'cpu'),
  slice('b-mem', 'data/b.csv', 'mem'),
  slice('b-disk', 'data/b.csv', 'disk'),
]);

test('loom models train trains a file split on a local cluster, prints progress and a summary, and --only carries the rest forward', async () => {
  assert.ok(existsSync(LOOM), `build the CLI first: ${LOOM}`);
  const store = join(dir, 'store');
  const run = loom('models', 'train', '--split', splitPath, '--family', 'ar(p=2)', '--store', store, '--group', 'fleet', '--local', '1');
  assert.equal(run.status, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  assert.match(run.stderr, /^training 5 slices of .*split\.csv with ar\(p=2,d=0,k=3\) on a local cluster of 1 worker x 1 thread$/m);
  // Not a terminal: plain lines, the last one complete; no worker or scheduler log lines.
  assert.match(run.stderr, /^5\/5 slices \(1 failed\), [\d,]+\/s, done$/m);
  assert.ok(!/^\{/m.test(run.stderr), `JSON log lines on stderr:\n${run.stderr}`);
  assert.match(run.stdout, /^trained 4 models in [\d.]+ s, [\d,]+ models\/s: group fleet, version 1$/m);
  assert.match(run.stdout, /^failed: 1 slice$/m);
  assert.match(run.stdout, /^ {2}MISSING_COLUMN\s+1 {2}e\.g\. b-disk: .*no column "disk"/m);
  assert.match(run.stdout, /^test RMSE: median [\d.]+, p90 [\d.]+ \(over 4 of the version's 4 models\)/m);
  assert.match(run.stdout, /^work: \d+ tasks?; .* 0 queries, 2 file scans, 400 rows$/m);

  const opened = await ModelStore.open(store, { create: false });
  const group = await opened.open('fleet');
  assert.equal(group.version, 1);
  assert.deepEqual([...group.ids].sort(), ['a-cpu', 'a-mem', 'b-cpu', 'b-mem']);
  for (const [id, source, metric] of [['a-cpu', sources.a, 'cpu'], ['b-mem', sources.b, 'mem']] as const) {
    const expected = expectedModel(ar({ p: 2 }), source, metric, train, testRange);
    assert.deepEqual([...(group.params(id) ?? [])], [...expected.params], `${id}: stored params differ from evaluate() on the same values`);
    assert.equal(group.get(id)?.metrics.testPoints, 50);
  }

  const only = join(dir, 'only.txt');
  writeFileSync(only, 'a-mem\n\n');
  const retrain = loom('models', 'train', '--split', splitPath, '--family', 'ar(p=2)', '--store', store, '--group', 'fleet', '--local', '1', '--only', only, '--json');
  assert.equal(retrain.status, 0, retrain.stderr);
  const result = JSON.parse(retrain.stdout) as TrainManyResult;
  assert.deepEqual([result.version, result.trained, result.carried, result.failed.length], [2, 1, 3, 0]);
  assert.match(retrain.stderr, /^1\/1 slices \(0 failed\), [\d,]+\/s, done$/m);
  const second = await opened.open('fleet');
  assert.equal(second.version, 2);
  assert.equal(second.get('b-cpu')?.trainedAt, group.get('b-cpu')?.trainedAt, 'a carried model keeps its training time');
});

test('bad arguments are usage errors that say what is wrong, before any cluster starts', async () => {
  // Through the binary once: the exit status and the message on stderr.
  const missing = loom('models', 'train', '--family', 'ar(p=8)');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^loom: models train: --split is required\nusage: loom models train --split FILE/);

  const base = ['--split', splitPath, '--group', 'g', '--store', join(dir, 'unused')];
  const cases: Array<[string[], RegExp]> = [
    [['--split', splitPath, '--group', 'g'], /--family is required/],
    [['--split', splitPath, '--family', 'ar(p=8)'], /--group is required/],
    [[...base, '--family', 'ar(p=8)', '--local', '0'], /--local takes a positive whole number, got "0"/],
    [[...base, '--family', 'ar(p=8)', '--local', '1', '--scheduler', '127.0.0.1:1'], /give --scheduler or --local, not both/],
    [[...base, '--family', 'ar(p=8)', '--batch-seconds', 'soon'], /--batch-seconds takes a positive number, got "soon"/],
    [[...base, '--family', 'ar(p=8'], /--family "ar\(p=8": unclosed parenthesis/],
    [[...base, '--family', 'arma(p=1)'], /unknown family 'arma' \(built-in: ar, arima, seasonal, lstm/],
    [[...base, '--family', 'ar(p=8,p=2)'], /parameter p is given twice/],
    [[...base, '--family', 'ar(p)'], /parameter "p" is not key=value/],
    [[...base, '--family', 'ar(p=-1)'], /--family "ar\(p=-1\)": ar: p must be an integer/],
    [[...base, '--family', 'ar(p=8)', '--bogus'], /Unknown option '--bogus'/],
    [[...base, '--family', 'ar(p=8)', 'extra'], /Unexpected argument 'extra'/],
    [[...base, '--family', 'ar(p=8)', '--connections', join(dir, 'missing.json')], /--connections .*missing\.json: neither a postgres:\/\/ URL nor a readable JSON file/],
    [[...base, '--family', 'ar(p=8)', '--only', join(dir, 'missing.txt')], /--only .*missing\.txt: ENOENT/],
  ];
  const err = { write: (text: string) => assert.fail(`wrote ${JSON.stringify(text)} before failing`) };
  for (const [args, message] of cases) {
    await assert.rejects(runTrainCommand(args, { out: err.write, err }), (error: unknown) => {
      assert.ok(isTrainManyError(error, 'BAD_OPTIONS'), `${args.join(' ')}: ${String(error)}`);
      assert.match(error.message, message, args.join(' '));
      return true;
    });
  }
  // An invalid split stops the command with every problem listed, before a cluster starts.
  const badSplit = join(dir, 'bad-split.csv');
  writeSplit(badSplit, [slice('x', 'data/b.csv', 'cpu'), slice('x', 'data/nowhere.csv', 'cpu')]);
  await assert.rejects(runTrainCommand(['--split', badSplit, '--family', 'ar(p=2)', '--group', 'g', '--store', join(dir, 'unused')], { out: err.write, err }), (error: unknown) => {
    assert.ok(isSplitError(error, 'INVALID_SPLIT'), String(error));
    assert.match(error.message, /bad-split\.csv: 2 problems/);
    assert.match(error.message, /row 2 \(id "x"\), column id: duplicate id/);
    return true;
  });
  // A database split needs --connections; that too is known before a cluster starts.
  const databaseSplit = join(dir, 'database-split.csv');
  writeSplit(databaseSplit, [{ id: 'x', database: 'metrics', table: 'db1', column: 'cpu', train_from: train.from, train_to: train.to, test_from: testRange.from, test_to: testRange.to }]);
  await assert.rejects(runTrainCommand(['--split', databaseSplit, '--family', 'ar(p=2)', '--group', 'g', '--store', join(dir, 'unused')], { out: err.write, err }), /the split reads databases \(metrics\): give --connections/);
  assert.ok(!existsSync(join(dir, 'unused')), 'a failed command created the store');
});

test('--connections: a URL template, one URL for every database, or a JSON file of names to URLs', () => {
  const template = parseConnections('postgres://loom@db-host/{database}') as (database: string) => string;
  assert.equal(template('metrics 7'), 'postgres://loom@db-host/metrics%207');
  const one = parseConnections('postgresql://loom@warehouse/all') as (database: string) => string;
  assert.equal(one('db1'), 'postgresql://loom@warehouse/all');
  const file = join(dir, 'connections.json');
  writeFileSync(file, JSON.stringify({ db1: 'postgres://a/db1', db2: 'postgres://b/db2' }));
  assert.deepEqual(parseConnections(file), { db1: 'postgres://a/db1', db2: 'postgres://b/db2' });
  writeFileSync(file, JSON.stringify({ db1: 'postgres://a/db1', db2: 7 }));
  assert.throws(() => parseConnections(file), /the connection strings of db2 are not strings/);
  writeFileSync(file, '["postgres://a"]');
  assert.throws(() => parseConnections(file), /must hold a JSON object/);
});
