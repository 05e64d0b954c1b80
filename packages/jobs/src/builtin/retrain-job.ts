// The built-in `retrain` job: trainMany over a split, published as a new version of the group. Idempotent by
// construction, since BullMQ may deliver a job twice: the version records the job's id in its manifest, and a
// run that finds a version with its id returns that version instead of training again. A run killed before it
// published leaves trainMany's stage, which the next run of the same parameters resumes (only missing batches).
import { isModelStoreError, ModelStore, readSplit, resolveFamily, trainMany } from '@loom/models';
import { defineJob } from '../define-job.js';
import type { JobContext } from '../job-context.js';
import { checkRetrainParams, connectionsOf, type RetrainParams } from './retrain-params.js';

/** The manifest meta entry a retrain's version carries: the job id that published it. */
export const JOB_META_KEY = 'loomJob';

export interface RetrainResult {
  group: string;
  version: number;
  trained: number;
  carried: number;
  failed: number;
  /** True when an earlier run of this very job had published the version (this run trained nothing). */
  reused: boolean;
}

export async function retrain(ctx: JobContext, params: RetrainParams): Promise<RetrainResult> {
  const store = await ModelStore.open(params.store);
  const earlier = await versionOfJob(store, params.group, ctx.id);
  if (earlier !== undefined) {
    ctx.log(`version ${earlier.version} of ${params.group} was published by an earlier run of this job: returning it`);
    return { ...earlier, reused: true };
  }
  ctx.progress(0, 'reading split');
  const connections = connectionsOf(params.connections);
  const split = await readSplit(params.split, {
    ...(connections === undefined ? {} : { connections }),
    ...(params.timeColumn === undefined ? {} : { timeColumn: params.timeColumn }),
  });
  const family = await resolveFamily(params.family);
  ctx.progress(0.01, `training ${(params.only?.length ?? split.size).toLocaleString('en-US')} slices with ${family.key()}`);
  const run = await trainMany(ctx.client, {
    split,
    family,
    store,
    group: params.group,
    meta: { [JOB_META_KEY]: ctx.id },
    onProgress: (p) => ctx.progress(0.01 + 0.98 * (p.total === 0 ? 1 : p.done / p.total), `${p.done}/${p.total} slices (${p.failed} failed)`),
    ...(params.only === undefined ? {} : { only: params.only }),
    ...(connections === undefined ? {} : { connections }),
    ...(params.batchSeconds === undefined ? {} : { batchSeconds: params.batchSeconds }),
  });
  ctx.progress(1, `published version ${run.version}`);
  return { group: run.group, version: run.version, trained: run.trained, carried: run.carried, failed: run.failed.length, reused: false };
}

/** The version of `group` that the job `jobId` published, newest first; undefined when it published none. */
export async function versionOfJob(store: ModelStore, group: string, jobId: string): Promise<Omit<RetrainResult, 'reused'> | undefined> {
  let versions;
  try {
    versions = await store.versions(group);
  } catch (error) {
    if (isModelStoreError(error, 'UNKNOWN_GROUP') || isModelStoreError(error, 'NO_CURRENT_VERSION')) return undefined;
    throw error;
  }
  for (const { version } of [...versions].reverse()) {
    const manifest = await store.manifest(group, version);
    if (manifest.meta[JOB_META_KEY] === jobId) {
      const failures = (manifest.meta['trainMany'] as { failed?: unknown } | undefined)?.failed;
      return { group, version, trained: manifest.models - manifest.carried, carried: manifest.carried, failed: typeof failures === 'number' ? failures : 0 };
    }
  }
  return undefined;
}

export const retrainJob = defineJob('retrain', retrain, { validate: (params) => checkRetrainParams(params), attempts: 3, backoff: { type: 'exponential', delay: 2_000 } });
