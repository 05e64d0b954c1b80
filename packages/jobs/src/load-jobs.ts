// Loading a jobs module (`--jobs ./jobs.js`): every export that is a job definition (defineJob) is served, also
// definitions inside an exported array. A module that exports none is an error, since it is surely the wrong file.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isJobDefinition, type AnyJobDefinition } from './define-job.js';
import { JobsError } from './jobs-error.js';

export async function loadJobs(specifier: string): Promise<AnyJobDefinition[]> {
  const url = /^[./]|^[A-Za-z]:[\\/]/.test(specifier) ? pathToFileURL(resolve(specifier)).href : specifier;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new JobsError('BAD_JOBS_MODULE', `cannot load the jobs module ${specifier}: ${(error as Error).message}`, { cause: error });
  }
  const found: AnyJobDefinition[] = [];
  for (const value of Object.values(module)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isJobDefinition(item) && !found.includes(item)) found.push(item);
    }
  }
  if (found.length === 0) throw new JobsError('BAD_JOBS_MODULE', `the jobs module ${specifier} exports no job definition (export const myJob = defineJob('my-job', ...))`);
  return found;
}

/** The module's definitions over the built-ins: a module may replace `retrain` or `drift-check` with its own. */
export function mergeJobs(builtins: readonly AnyJobDefinition[], own: readonly AnyJobDefinition[]): AnyJobDefinition[] {
  const names = new Set(own.map((job) => job.name));
  const seen = new Set<string>();
  for (const job of own) {
    if (seen.has(job.name)) throw new JobsError('BAD_JOBS_MODULE', `two job definitions are named ${JSON.stringify(job.name)}`);
    seen.add(job.name);
  }
  return [...builtins.filter((job) => !names.has(job.name)), ...own];
}
