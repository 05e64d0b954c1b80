// bench:many's Loom side: trainMany end to end (readSplit, then read, fit and store on the cluster) on a fresh
// LocalCluster of 2 workers x 1 thread, into a fresh model store per repeat. Each repeat records its wall time,
// trainMany's breakdown of where the time went, and each worker's peak RSS during that repeat (the kernel's
// high-water mark is reset between repeats where /proc allows it). The stored models are read back afterwards,
// outside the timing, for the caller's checks.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Client, LocalCluster } from '@loom/client';
import { ModelStore, readSplit, trainMany, type Connections, type ModelFamily, type StoredModel, type TrainManyResult } from '@loom/models';
import { parseBytes } from '@loom/protocol';
import { processMemory } from '@loom/worker';

export const WORKERS = 2;
export const THREADS_PER_WORKER = 1;

export interface LoomRepeat {
  repeat: number;
  /** readSplit + trainMany, wall. */
  seconds: number;
  splitSeconds: number;
  result: TrainManyResult;
  /** Peak RSS of each worker during this repeat (since the cluster started where it could not be reset). */
  peakRss: number[];
  load: number;
}

export interface LoomMeasurement {
  name: string;
  family: string;
  repeats: LoomRepeat[];
  clusterStartSeconds: number;
  memoryLimitBytes: number;
  /** Whether each repeat's peak RSS is its own (false: cumulative since the cluster started). */
  peakPerRepeat: boolean;
  /** Models of the first repeat read back from the store, by id, for the ids asked for. */
  stored: Map<string, StoredModel>;
}

export interface LoomOptions {
  name: string;
  splitPath: string;
  connections?: Connections;
  family: ModelFamily;
  repeats: number;
  memoryLimit: string;
  /** Where the repeats' stores go (each removed after it is read back). */
  storeRoot: string;
  /** Ids whose stored models the measurement keeps. */
  keep: readonly string[];
  log: (message: string) => void;
}

export async function measureLoom(options: LoomOptions): Promise<LoomMeasurement> {
  const { log } = options;
  const starting = performance.now();
  const cluster = await LocalCluster.start({ workers: WORKERS, threadsPerWorker: THREADS_PER_WORKER, memoryLimit: options.memoryLimit });
  const client = await Client.connect(cluster.address);
  const clusterStartSeconds = (performance.now() - starting) / 1000;
  const repeats: LoomRepeat[] = [];
  const stored = new Map<string, StoredModel>();
  let peakPerRepeat = true;
  try {
    for (let repeat = 1; repeat <= options.repeats; repeat++) {
      const pids = cluster.workers.map((worker) => worker.pid);
      peakPerRepeat = pids.map(resetPeakRss).every(Boolean) && peakPerRepeat;
      const storeDir = join(options.storeRoot, `${options.name}-${repeat}-${randomUUID().slice(0, 8)}`);
      mkdirSync(options.storeRoot, { recursive: true });
      const started = performance.now();
      const split = await readSplit(options.splitPath, options.connections === undefined ? {} : { connections: options.connections });
      const splitSeconds = (performance.now() - started) / 1000;
      const store = await ModelStore.open(storeDir);
      const result = await trainMany(client, { split, family: options.family, store, group: 'bench', onProgress: progressLog(log, options.name) });
      const seconds = (performance.now() - started) / 1000;
      const peakRss = pids.map((pid) => processMemory(pid, 'VmHWM') ?? Number.NaN);
      repeats.push({ repeat, seconds, splitSeconds, result, peakRss, load: loadavg()[0]! });
      log(
        `${options.name} ${repeat}/${options.repeats}: ${result.trained} models in ${seconds.toFixed(2)} s ` +
          `(readSplit ${splitSeconds.toFixed(2)} s, ${result.batches.total} batches, ${result.failed.length} failed), load ${loadavg()[0]!.toFixed(1)}`,
      );
      if (repeat === 1) {
        const group = await store.open('bench');
        if (group.size !== result.trained) throw new Error(`${options.name}: the store holds ${group.size} models, trainMany reported ${result.trained}`);
        for (const id of options.keep) {
          const model = group.get(id);
          if (model !== undefined) stored.set(id, { ...model, params: Float64Array.from(model.params) });
        }
      }
      rmSync(storeDir, { recursive: true, force: true });
    }
  } finally {
    await client.close();
    await cluster.close();
  }
  return { name: options.name, family: options.family.key(), repeats, clusterStartSeconds, memoryLimitBytes: parseBytes(options.memoryLimit), peakPerRepeat, stored };
}

/** Resets a process's peak RSS (VmHWM) to its current RSS; false when the kernel refuses. */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** A progress line at most every few seconds. */
function progressLog(log: (message: string) => void, name: string): (progress: { done: number; total: number; rate: number; etaSeconds: number }) => void {
  let last = performance.now();
  return ({ done, total, rate, etaSeconds }) => {
    const now = performance.now();
    if (now - last < 3_000 && done < total) return;
    last = now;
    log(`  ${name}: ${done.toLocaleString('en')}/${total.toLocaleString('en')} slices, ${rate.toFixed(0)}/s, ${Number.isFinite(etaSeconds) ? `${etaSeconds.toFixed(0)} s left` : 'starting'}`);
  };
}
