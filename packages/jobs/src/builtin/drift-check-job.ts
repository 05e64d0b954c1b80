// The built-in `drift-check` job: runs drift detection for a group over a split and, when any model drifted,
// enqueues one `retrain` job with `only` the drifted ids (a job that starts a job, shown with its parent in
// `jobs ls`). Idempotent: the retrain job's id is derived from this job's, so a second run of the same
// drift-check finds the retrain it started (BullMQ adds nothing for an id it has) instead of starting another.
import type { Client } from '@loom/client';
import { detectDrift, DRIFT_METHODS, ModelStore, readSplit, type DetectDriftOptions, type Split } from '@loom/models';
import { defineJob } from '../define-job.js';
import type { JobContext } from '../job-context.js';
import { checkRetrainParams, connectionsOf, type RetrainParams } from './retrain-params.js';

export interface DriftCheckParams extends RetrainParams {
  /** detectDrift's method: psi (default), ks or page-hinkley. */
  method?: string;
  /** detectDrift's options for the method, passed as they are (it checks them). */
  driftOptions?: Record<string, unknown>;
}

export interface DriftCheckResult {
  group: string;
  checked: number;
  drifted: number;
  /** The retrain job started for the drifted ids (null when none drifted). */
  retrainJob: string | null;
}

/** What the drift check needs of detectDrift (@loom/models): the ids of the models that drifted. */
export type DriftDetector = (client: Client, options: { store: ModelStore; group: string; split: Split; method: string; options?: Record<string, unknown> }) => Promise<{ checked: number; drifted: string[] }>;

export function driftCheckJob(detect: DriftDetector = detectDriftOfModels) {
  return defineJob(
    'drift-check',
    async (ctx: JobContext, params: DriftCheckParams): Promise<DriftCheckResult> => {
      const store = await ModelStore.open(params.store);
      const connections = connectionsOf(params.connections);
      ctx.progress(0, 'reading split');
      const split = await readSplit(params.split, {
        ...(connections === undefined ? {} : { connections }),
        ...(params.timeColumn === undefined ? {} : { timeColumn: params.timeColumn }),
      });
      ctx.progress(0.1, `checking ${split.size.toLocaleString('en-US')} models of ${params.group} for drift`);
      const method = params.method ?? 'psi';
      const { checked, drifted } = await detect(ctx.client, { store, group: params.group, split, method, ...(params.driftOptions === undefined ? {} : { options: params.driftOptions }) });
      if (drifted.length === 0) {
        ctx.progress(1, `no drift in ${checked} models`);
        return { group: params.group, checked, drifted: 0, retrainJob: null };
      }
      const { method: _method, driftOptions: _options, ...retrain } = params;
      const retrainJob = await ctx.enqueue('retrain', { ...retrain, only: [...drifted].sort() });
      ctx.progress(1, `${drifted.length} of ${checked} models drifted: retrain job ${retrainJob}`);
      return { group: params.group, checked, drifted: drifted.length, retrainJob };
    },
    { validate: (params) => ({ ...checkRetrainParams(params, 'drift-check'), ...checkMethod(params) }), attempts: 3 },
  );
}

/** The method is checked against detectDrift's own list, so that a typo fails the job at once instead of after its retries. */
function checkMethod(params: unknown): Pick<DriftCheckParams, 'method' | 'driftOptions'> {
  const { method, driftOptions } = params as { method?: unknown; driftOptions?: unknown };
  if (method !== undefined && !(DRIFT_METHODS as readonly unknown[]).includes(method)) throw new Error(`drift-check params: method must be one of ${DRIFT_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  if (driftOptions !== undefined && (typeof driftOptions !== 'object' || driftOptions === null || Array.isArray(driftOptions))) throw new Error('drift-check params: driftOptions must be an object of detectDrift options');
  return { ...(method === undefined ? {} : { method: method as string }), ...(driftOptions === undefined ? {} : { driftOptions: driftOptions as Record<string, unknown> }) };
}

async function detectDriftOfModels(client: Client, options: Parameters<DriftDetector>[1]): ReturnType<DriftDetector> {
  const result = await detectDrift(client, {
    ...options,
    method: options.method as DetectDriftOptions['method'],
    ...(options.options === undefined ? {} : { options: options.options as DetectDriftOptions['options'] }),
  });
  return { checked: result.tested, drifted: result.drifted() };
}
