// Drift results beside the version they tested: one small JSON file per detectDrift run under the version's
// directory (`versions/000007/drift/<time>-<method>-<random>.json`), written all-or-nothing (temporary file,
// fsync, rename), so a reader sees whole runs only. A version's files and manifest are never touched: the
// results are about the models, not part of them, and pruning a version removes its results with it.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileDurable } from './durable-fs.js';
import { ModelStoreError } from './store-error.js';

export const DRIFT_DIR = 'drift';
export const DRIFT_FORMAT = 'loom-drift/1';

/** One model the run found drifted: by how much, against what, and (page-hinkley) from when. */
export interface DriftedModel {
  id: string;
  statistic: number;
  /** ks: the uncorrected p-value (drifted when below the run's per-test alpha). */
  pValue?: number;
  threshold: number;
  /** page-hinkley: the time (ms since the epoch, or the split's number) of the value that raised the alarm. */
  changeAt?: number;
}

export interface DriftRecord {
  format: typeof DRIFT_FORMAT;
  group: string;
  version: number;
  method: string;
  /** The options the statistics ran with (ks: with the per-test alpha after Bonferroni correction). */
  options: Record<string, unknown>;
  /** ISO time the run finished. */
  detectedAt: string;
  /** Where the recent data came from. */
  split: { origin: string; slices: number };
  tested: number;
  failed: number;
  drifted: DriftedModel[];
  /** The slices that could not be tested (the first 10,000), with reasons. */
  failures: Array<{ id: string; code: string; error: string }>;
}

/** Writes one run's record into the version's drift directory; returns its file name. */
export async function writeDriftRecord(versionDir: string, record: DriftRecord): Promise<string> {
  const dir = join(versionDir, DRIFT_DIR);
  await mkdir(dir, { recursive: true });
  await syncDirectory(versionDir);
  // Sortable by time, unique across concurrent runs.
  const name = `${record.detectedAt.replace(/[:.]/g, '-')}-${record.method}-${randomBytes(4).toString('hex')}.json`;
  await writeFileDurable(join(dir, name), `${JSON.stringify(record)}\n`);
  return name;
}

/** Every run's record for the version, oldest first (none: an empty list). */
export async function readDriftRecords(versionDir: string): Promise<DriftRecord[]> {
  const dir = join(versionDir, DRIFT_DIR);
  const records: DriftRecord[] = [];
  for (const name of await driftRecordNames(versionDir)) records.push(await readDriftRecord(join(dir, name)));
  return records;
}

/** The file names of the version's drift records, oldest first (they sort by time). */
export async function driftRecordNames(versionDir: string): Promise<string[]> {
  const names = await readdir(join(versionDir, DRIFT_DIR)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names.filter((entry) => entry.endsWith('.json') && !entry.startsWith('.')).sort();
}

export async function readDriftRecord(path: string): Promise<DriftRecord> {
  let record: DriftRecord;
  try {
    record = JSON.parse(await readFile(path, 'utf8')) as DriftRecord;
  } catch (error) {
    throw new ModelStoreError('CORRUPT_FILE', `${path}: not a drift record: ${(error as Error).message}`, { path, cause: error });
  }
  if (record?.format !== DRIFT_FORMAT) throw new ModelStoreError('CORRUPT_FILE', `${path}: unknown drift record format ${JSON.stringify(record?.format)}`, { path });
  return record;
}

/** The run's drifted models, most drifted first: smallest p-value for ks, largest statistic otherwise. */
export function mostDrifted(run: DriftRecord, limit = run.drifted.length): DriftedModel[] {
  const byPValue = run.method === 'ks';
  return [...run.drifted].sort((a, b) => (byPValue ? (a.pValue ?? 1) - (b.pValue ?? 1) : b.statistic - a.statistic)).slice(0, limit);
}
