// What the adaptive target reads from the scheduler's state: its workers and the ready work, for the whole
// cluster or for one worker group (the workers offering a resource such as GPU, or those offering none). Ready
// work comes from the per-kind state counts, O(kinds of task); only a group's share of resource-restricted
// work needs the tasks themselves, and that is read from a bounded sample, as Dask samples 100 queued tasks.
import type { AdaptiveInput, AdaptiveWorker } from './adaptive-target.js';
import type { SchedulerState } from './scheduler-state.js';
import type { TaskState } from './task-state.js';
import type { WorkerState } from './worker-state.js';

/**
 * Which workers and which work the target is for: `all` (Dask's adaptive target), `plain` (workers that offer
 * no resources, for work that needs none) or `resource` (workers offering it, for work that needs it).
 */
export type AdaptiveScope = { kind: 'all' } | { kind: 'plain' } | { kind: 'resource'; name: string };

/** Resource-restricted ready tasks looked at to split them between groups; the rest are assumed alike. */
export const RESTRICTED_SAMPLE = 1000;

export function adaptiveInput(state: SchedulerState, scope: AdaptiveScope): AdaptiveInput {
  const workers: AdaptiveWorker[] = [];
  for (const worker of state.workers.values()) {
    // A closing worker hands its results back and leaves: it is no capacity to plan with.
    if (worker.closing || !inScope(worker, scope)) continue;
    workers.push({
      nthreads: worker.nthreads,
      memoryLimit: worker.memoryLimit,
      managedBytes: worker.metrics.managedBytes,
      occupancySeconds: worker.occupancy,
      processing: worker.processing.size,
    });
  }
  const unknownSeconds = state.config.unknownTaskSeconds;
  let readyTasks = 0;
  let readySeconds = 0;
  for (const prefix of state.prefixes.values()) {
    const ready = prefix.states.queued + prefix.states['no-worker'];
    readyTasks += ready;
    readySeconds += ready * (prefix.durationAverage ?? unknownSeconds);
  }
  if (scope.kind === 'all') return { workers, readyTasks, readySeconds };
  const restricted = restrictedWork(state, scope.kind === 'resource' ? scope.name : undefined);
  if (scope.kind === 'resource') return { workers, readyTasks: restricted.matching, readySeconds: restricted.matchingSeconds };
  return { workers, readyTasks: Math.max(0, readyTasks - restricted.total), readySeconds: Math.max(0, readySeconds - restricted.totalSeconds) };
}

function inScope(worker: WorkerState, scope: AdaptiveScope): boolean {
  if (scope.kind === 'all') return true;
  if (scope.kind === 'plain') return Object.keys(worker.resources).length === 0;
  return (worker.resources[scope.name] ?? 0) > 0;
}

interface RestrictedWork {
  total: number;
  totalSeconds: number;
  /** Of those, the tasks needing `resource` (estimated from the sample). */
  matching: number;
  matchingSeconds: number;
}

/** Ready tasks that need resources: queued for a worker that has them, or waiting for one to join. */
function restrictedWork(state: SchedulerState, resource: string | undefined): RestrictedWork {
  const total = state.queues.restricted.size + state.noWorker.size;
  const unknownSeconds = state.config.unknownTaskSeconds;
  let sampled = 0;
  let sampledSeconds = 0;
  let matching = 0;
  let matchingSeconds = 0;
  const look = (task: TaskState): boolean => {
    const seconds = task.prefix.durationAverage ?? unknownSeconds;
    sampled += 1;
    sampledSeconds += seconds;
    if (resource !== undefined && (task.resources?.[resource] ?? 0) > 0) {
      matching += 1;
      matchingSeconds += seconds;
    }
    return sampled < RESTRICTED_SAMPLE;
  };
  for (const task of state.noWorker) if (!look(task)) break;
  if (sampled < RESTRICTED_SAMPLE) for (const task of state.queues.restricted.liveTasks()) if (!look(task)) break;
  const scale = sampled === 0 ? 0 : total / sampled;
  return { total, totalSeconds: sampledSeconds * scale, matching: Math.round(matching * scale), matchingSeconds: matchingSeconds * scale };
}
