// defineJob: a named job function with its defaults (attempts, backoff, timeout) and an optional validation of
// its parameters. A jobs module exports such definitions; runners load it by path and serve every one of them.
import type { JobContext } from './job-context.js';
import { JobsError } from './jobs-error.js';

/** JSON values: what job parameters and results are (they are stored in Redis as JSON). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Backoff {
  type: 'exponential' | 'fixed';
  /** Milliseconds: the first wait (exponential: delay * 2^(attempt-1)). */
  delay: number;
}

export interface JobDefaults {
  /** Tries before the job fails for good (default 3). */
  attempts?: number;
  /** Wait between tries (default exponential from 1 s). */
  backoff?: Backoff;
  /** Each try's time limit in ms; past it the job's signal aborts and the try fails with TIMEOUT (default none). */
  timeoutMs?: number;
}

export interface JobOptions<P> extends JobDefaults {
  /**
   * Checks the parameters and returns them typed, or throws (the job then fails at once, without retries, with
   * BAD_PARAMS and the thrown message). Default: any JSON.
   */
  validate?: (params: unknown) => P;
}

export type JobHandler<P, R> = (ctx: JobContext, params: P) => Promise<R> | R;

export interface JobDefinition<P = unknown, R = unknown> {
  readonly kind: typeof JOB_DEFINITION;
  readonly name: string;
  readonly run: JobHandler<P, R>;
  readonly validate: (params: unknown) => P;
  readonly defaults: Required<Pick<JobDefaults, 'attempts' | 'backoff'>> & Pick<JobDefaults, 'timeoutMs'>;
}

/** A definition of any parameter type, as runners and modules hold them side by side. */
export type AnyJobDefinition = JobDefinition<never, unknown>;

/** Marks definitions, so a module's other exports are not mistaken for jobs. */
export const JOB_DEFINITION = 'loom.job/v1';

export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF: Backoff = { type: 'exponential', delay: 1_000 };
const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

export function defineJob<P = Json, R = unknown>(name: string, run: JobHandler<P, R>, options: JobOptions<P> = {}): JobDefinition<P, R> {
  if (typeof name !== 'string' || !NAME.test(name)) throw new JobsError('BAD_OPTIONS', `defineJob: name ${JSON.stringify(name)} must be a letter then letters, digits, '_', '.' or '-' (at most 100)`);
  if (typeof run !== 'function') throw new JobsError('BAD_OPTIONS', `defineJob('${name}'): the job must be a function (ctx, params) => result`);
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  if (!Number.isSafeInteger(attempts) || attempts < 1) throw new JobsError('BAD_OPTIONS', `defineJob('${name}'): attempts must be a positive integer, got ${String(attempts)}`);
  const timeoutMs = options.timeoutMs;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new JobsError('BAD_OPTIONS', `defineJob('${name}'): timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  const backoff = checkBackoff(options.backoff ?? DEFAULT_BACKOFF, `defineJob('${name}')`);
  return {
    kind: JOB_DEFINITION,
    name,
    run,
    validate: options.validate ?? ((params) => params as P),
    defaults: { attempts, backoff, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
  };
}

export function isJobDefinition(value: unknown): value is AnyJobDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === JOB_DEFINITION;
}

export function checkBackoff(backoff: Backoff, where: string): Backoff {
  if (typeof backoff !== 'object' || backoff === null || (backoff.type !== 'exponential' && backoff.type !== 'fixed') || !(Number.isFinite(backoff.delay) && backoff.delay >= 0)) {
    throw new JobsError('BAD_OPTIONS', `${where}: backoff must be { type: 'exponential' | 'fixed', delay: ms >= 0 }, got ${JSON.stringify(backoff)}`);
  }
  return { type: backoff.type, delay: backoff.delay };
}

/** Parameters as given on a command line: JSON text, with a message that says where it is not JSON. */
export function parseParams(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw new JobsError('BAD_PARAMS', `--params is not JSON: ${(error as Error).message} (got ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)})`);
  }
}

/** Throws BAD_PARAMS unless `value` survives JSON as itself (no functions, dates, NaN, undefined, cycles). */
export function assertJson(value: unknown, what: string): asserts value is Json {
  const problem = jsonProblem(value, what, new Set());
  if (problem !== undefined) throw new JobsError('BAD_PARAMS', problem);
}

function jsonProblem(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot hold`;
  if (typeof value !== 'object') return `${path} is a ${typeof value}, which JSON cannot hold`;
  if (seen.has(value)) return `${path} refers back to itself`;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return `${path} is a ${(value as object).constructor?.name ?? 'class instance'}, not a plain object (JSON would change it)`;
  seen.add(value);
  try {
    for (const [key, item] of Object.entries(value)) {
      const problem = jsonProblem(item, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, seen);
      if (problem !== undefined) return problem;
    }
  } finally {
    seen.delete(value);
  }
  return undefined;
}
