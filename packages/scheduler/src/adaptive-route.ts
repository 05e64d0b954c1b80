// GET /api/v1/adaptive on the dashboard's port: the adaptive target as JSON, for an autoscaler to poll (KEDA's
// metrics-api scaler reads `workers`). Query: `resource=GPU` (the group offering GPU) or `resource=none` (the
// group offering no resources), `target-duration=5s`, `threads=N` (threads of a new worker, for a group at zero).
import { DashboardError } from '@loom/dashboard';
import { adaptiveInput, type AdaptiveScope } from './adaptive-input.js';
import { adaptiveTarget, type AdaptiveTarget } from './adaptive-target.js';
import type { SchedulerState } from './scheduler-state.js';

export interface AdaptiveAnswer extends AdaptiveTarget {
  /** `all`, `none` or the resource name: which workers and work the figures are for. */
  scope: string;
}

export function adaptiveRoute(state: SchedulerState): (query: URLSearchParams) => AdaptiveAnswer {
  return (query) => {
    const scope = parseScope(query.get('resource'));
    const options: Parameters<typeof adaptiveTarget>[1] = {};
    const duration = query.get('target-duration');
    if (duration !== null) options.targetDurationSeconds = parseDuration(duration);
    const threads = query.get('threads');
    if (threads !== null) {
      const value = Number(threads);
      if (!Number.isSafeInteger(value) || value < 1) throw new DashboardError('BAD_REQUEST', `threads must be a positive integer, got '${threads}'`);
      options.threadsPerNewWorker = value;
    }
    const target = adaptiveTarget(adaptiveInput(state, scope), options);
    return { scope: scope.kind === 'resource' ? scope.name : scope.kind === 'plain' ? 'none' : 'all', ...target };
  };
}

function parseScope(resource: string | null): AdaptiveScope {
  if (resource === null || resource === '') return { kind: 'all' };
  if (resource === 'none') return { kind: 'plain' };
  return { kind: 'resource', name: resource };
}

/** Seconds: `30`, `30s`, `2m`, `500ms`. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[(match?.[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const seconds = match === null ? Number.NaN : Number(match[1]) * unit;
  if (!(seconds > 0)) throw new DashboardError('BAD_REQUEST', `target-duration must be a positive duration such as 5s or 2m, got '${text}'`);
  return seconds;
}
