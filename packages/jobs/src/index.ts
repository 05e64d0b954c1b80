// @loom/jobs: durable jobs and schedules for Loom on BullMQ and Redis. defineJob names a job function; a
// JobRunner (loom jobs runner) serves a queue's jobs with a Loom client each; JobQueue submits, lists, shows,
// cancels and schedules them. Delivery is at least once, so every job must be idempotent (the built-ins are).
export { defineJob, isJobDefinition, parseParams, type AnyJobDefinition, type Backoff, type JobDefaults, type JobDefinition, type JobHandler, type JobOptions, type Json } from './define-job.js';
export { derivedJobId, type EnqueueOptions, type JobContext, type JobProgress } from './job-context.js';
export { JobQueue, type CancelOutcome, type JobQueueOptions, type ListOptions, type ScheduleInfo, type ScheduleSpec, type SubmitOptions } from './job-queue.js';
export { JobRunner, type JobRunnerOptions } from './job-runner.js';
export { detailsText, JOB_STATES, summaryTable, type JobDetails, type JobState, type JobSummary } from './job-view.js';
export { JobsError, isJobsError, type JobsErrorCode } from './jobs-error.js';
export { loadJobs, mergeJobs } from './load-jobs.js';
export { preflight, type ConnectionSettings } from './redis-connection.js';
export { redactUrl } from './redis-url.js';
export { retrainJob, retrain, versionOfJob, JOB_META_KEY, type RetrainResult } from './builtin/retrain-job.js';
export { driftCheckJob, type DriftCheckParams, type DriftCheckResult, type DriftDetector } from './builtin/drift-check-job.js';
export type { RetrainParams } from './builtin/retrain-params.js';
export { builtinJobs } from './builtin/index.js';
export { JOBS_USAGE, REDIS_URL_ENV, runJobsCli } from './jobs-cli.js';
export { startRunnerProcess, type RunnerProcessOptions } from './runner-process.js';
