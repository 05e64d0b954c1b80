// The jobs every runner serves besides a jobs module's own: retrain and drift-check.
import type { AnyJobDefinition } from '../define-job.js';
import { driftCheckJob } from './drift-check-job.js';
import { retrainJob } from './retrain-job.js';

export function builtinJobs(): AnyJobDefinition[] {
  return [retrainJob, driftCheckJob()] as unknown as AnyJobDefinition[];
}
