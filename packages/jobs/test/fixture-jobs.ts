// Jobs the tests' runners serve (loaded by path with --jobs, like a user's jobs module): each shows one behaviour
// of the runner. No node:test import: runner processes load this file.
import { driftCheckJob, defineJob } from '../src/index.js';

/** Returns its params: submit/show round trip. */
export const echo = defineJob('echo', async (ctx, params) => {
  ctx.progress(0.5, 'echoing');
  ctx.log('echo ran');
  return params;
});

/** Fails its first `failures` tries, then returns the try it succeeded on. */
export const flaky = defineJob(
  'flaky',
  async (ctx, params: { failures: number }) => {
    if (ctx.attempt <= params.failures) throw new Error(`flaky failure on try ${ctx.attempt}`);
    return { succeededOn: ctx.attempt };
  },
  { attempts: 4, backoff: { type: 'exponential', delay: 20 } },
);

/** Runs until its signal aborts (cancel, timeout); says so in its progress once it runs. */
export const hold = defineJob(
  'hold',
  async (ctx) => {
    ctx.progress(0.1, 'holding');
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    return 'released';
  },
  { attempts: 2, backoff: { type: 'fixed', delay: 10 } },
);

/** A job whose validation wants { n: number }. */
export const typed = defineJob(
  'typed',
  async (_ctx, params: { n: number }) => params.n * 2,
  {
    validate: (params) => {
      if (typeof (params as { n?: unknown })?.n !== 'number') throw new Error('n must be a number');
      return params as { n: number };
    },
  },
);

/** Runs a task on the cluster: the job's client works. */
export const square = defineJob('square', async (ctx, params: { x: number }) => ctx.client.submit((x: number) => x * x, params.x).result());

/** drift-check with a detector that calls the ids in driftOptions.drifted drifted (the real one is detectDrift's statistics). */
export const driftCheck = driftCheckJob(async (_client, options) => {
  const drifted = ((options.options?.['drifted'] as string[] | undefined) ?? []).filter((id) => options.split.slices.some((slice) => slice.id === id));
  return { checked: options.split.size, drifted };
});

/**
 * Runs a cluster task that finishes once the file `params.gate` exists, under a fixed key (so a later try
 * resubmits the same task); says 'submitted' in its progress once the task is on the cluster.
 */
export const gated = defineJob(
  'gated',
  async (ctx, params: { gate: string }) => {
    const future = ctx.client.submitWith({ key: `gated-${params.gate}`, pure: false }, async (gate: string) => {
      const { existsSync } = await import('node:fs');
      while (!existsSync(gate)) await new Promise((resolve) => setTimeout(resolve, 20));
      return 'opened';
    }, params.gate);
    ctx.progress(0.5, 'submitted');
    return { task: await future.result(), attempt: ctx.attempt };
  },
  { attempts: 3, backoff: { type: 'fixed', delay: 100 } },
);
