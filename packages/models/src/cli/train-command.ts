// `loom models train`: trainMany from the command line. Reads and checks the split, builds the family from its
// `--family` text, connects to a scheduler (or starts a local cluster for the run), prints the progress line on
// stderr while batches arrive and the run's summary (or its result as JSON) on stdout.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Client, LocalCluster } from '@loom/client';
import type { Connections } from '../split/resolve-sources.js';
import { readSplit } from '../split/read-split.js';
import { ModelStore } from '../store/model-store.js';
import { TrainManyError } from '../train-many/errors.js';
import { trainMany } from '../train-many/train-many.js';
import { familyFromArg } from './family-arg.js';
import { ProgressReporter, type ProgressSink } from './progress-line.js';
import { runSummary } from './run-summary.js';

const SYNOPSIS = `loom models train --split FILE --family SPEC --group NAME [--store DIR]
        [--scheduler HOST:PORT | --local N] [--connections FILE|URL] [--only FILE]
        [--time-column NAME] [--batch-seconds S] [--json]`;

export const TRAIN_USAGE = `${SYNOPSIS}
    trains one model per slice of a split on a Loom cluster and publishes a new version of the group

  --split FILE          the split CSV (database rows or file rows)
  --family SPEC         ar(p=8), arima(p=2,d=1,q=1), seasonal(period=24), lstm(window=24,hidden=16), ...;
                        a family of your own as MODULE#EXPORT(key=value, ...)
  --group NAME          the group to publish to
  --store DIR           the model store (default $LOOM_MODEL_STORE, else ./models; created when missing)
  --scheduler ADDR      the scheduler of a running cluster (the token from $LOOM_TOKEN)
  --local N             start a local cluster of N workers x 1 thread for this run (default: one per CPU)
  --connections X       database name to PostgreSQL connection string: a JSON file {"db": "postgres://..."},
                        a URL template with {database} in it, or one URL for every database
  --only FILE           retrain only these ids (one per line); the group's other models are carried forward
  --time-column NAME    the sources' time column (default ts)
  --batch-seconds S     target seconds of work per task (default 0.5)
  --json                print the run's result as JSON instead of the summary`;

export interface TrainCommandIo {
  /** The summary or the JSON result. */
  out: (text: string) => void;
  /** Progress and what the command is doing. */
  err: ProgressSink;
}

const OPTIONS = {
  split: { type: 'string' },
  family: { type: 'string' },
  group: { type: 'string' },
  store: { type: 'string' },
  scheduler: { type: 'string' },
  local: { type: 'string' },
  connections: { type: 'string' },
  only: { type: 'string' },
  'time-column': { type: 'string' },
  'batch-seconds': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const usage = (message: string): TrainManyError => new TrainManyError('BAD_OPTIONS', `models train: ${message}\nusage: ${SYNOPSIS}\n(loom models train --help for every option)`);

export async function runTrainCommand(argv: string[], io: TrainCommandIo = { out: (text) => process.stdout.write(text), err: process.stderr }): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
  } catch (error) {
    throw usage(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) {
    io.out(`${TRAIN_USAGE}\n`);
    return;
  }
  const required = (name: 'split' | 'family' | 'group'): string => {
    const value = values[name];
    if (value === undefined || value === '') throw usage(`--${name} is required`);
    return value;
  };
  const splitPath = required('split');
  const familyText = required('family');
  const groupName = required('group');
  if (values.scheduler !== undefined && values.local !== undefined) throw usage('give --scheduler or --local, not both');
  const localWorkers = values.scheduler === undefined ? positiveInteger(values.local, '--local', availableParallelism()) : 0;
  const batchSeconds = values['batch-seconds'] === undefined ? undefined : positiveNumber(values['batch-seconds'], '--batch-seconds');
  const family = await familyFromArg(familyText);
  const connections = values.connections === undefined ? undefined : parseConnections(values.connections);
  const only = values.only === undefined ? undefined : readIds(values.only);
  const timeColumn = values['time-column'];

  const split = await readSplit(splitPath, { ...(connections === undefined ? {} : { connections }), ...(timeColumn === undefined ? {} : { timeColumn }) });
  if (split.shape === 'database' && connections === undefined) {
    const databases = [...new Set(split.slices.map(({ source }) => (source.kind === 'database' ? source.database : '')))].sort();
    const named = databases.length > 5 ? `${databases.slice(0, 5).join(', ')} and ${databases.length - 5} more` : databases.join(', ');
    throw usage(`the split reads databases (${named}): give --connections`);
  }
  const store = await ModelStore.open(values.store ?? process.env['LOOM_MODEL_STORE'] ?? 'models');
  const where = values.scheduler === undefined ? `a local cluster of ${localWorkers} worker${localWorkers === 1 ? '' : 's'} x 1 thread` : `the cluster at ${values.scheduler}`;
  io.err.write(`training ${(only?.length ?? split.size).toLocaleString('en-US')} slices of ${split.origin} with ${family.key()} on ${where}\n`);

  const cluster = values.scheduler === undefined ? await LocalCluster.start({ workers: localWorkers, threadsPerWorker: 1 }) : undefined;
  let client: Client | undefined;
  try {
    client = await Client.connect(cluster?.address ?? (values.scheduler as string));
    const reporter = new ProgressReporter(io.err);
    let result;
    try {
      result = await trainMany(client, {
        split, family, store, group: groupName, onProgress: reporter.report,
        ...(only === undefined ? {} : { only }),
        ...(batchSeconds === undefined ? {} : { batchSeconds }),
      });
    } finally {
      reporter.finish();
    }
    if (values.json) {
      io.out(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    io.out(`${runSummary(result, await store.open(groupName, result.version)).join('\n')}\n`);
  } finally {
    await client?.close();
    await cluster?.close();
  }
}

/**
 * `--connections`: a URL template containing `{database}`, one connection string for every database, or a JSON
 * file mapping each database name to its connection string.
 */
export function parseConnections(value: string): Connections {
  if (/^postgres(ql)?:\/\//.test(value)) {
    if (value.includes('{database}')) return (database: string) => value.replaceAll('{database}', encodeURIComponent(database));
    return () => value;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(value, 'utf8'));
  } catch (error) {
    throw usage(`--connections ${value}: neither a postgres:// URL nor a readable JSON file (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage(`--connections ${value}: the file must hold a JSON object of database name to connection string`);
  const wrong = Object.entries(parsed).filter(([, url]) => typeof url !== 'string').map(([name]) => name);
  if (wrong.length > 0) throw usage(`--connections ${value}: the connection strings of ${wrong.join(', ')} are not strings`);
  return parsed as Record<string, string>;
}

/** `--only`: one id per line; blank lines are skipped. */
function readIds(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw usage(`--only ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const ids = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  if (ids.length === 0) throw usage(`--only ${path} names no id`);
  return ids;
}

function positiveInteger(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw usage(`${name} takes a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}

function positiveNumber(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usage(`${name} takes a positive number, got ${JSON.stringify(value)}`);
  return n;
}
