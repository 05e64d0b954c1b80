// The worker-side functions of @loom/ml/tasks as delayed wrappers: tasks name them by module reference, so the
// workers import them (a worker resolves '@loom/ml/tasks' from its own install or its working directory).
import { delayed, type Delayed } from '@loom/client';
import type { TaskOptions } from '@loom/client';

export const TASKS_MODULE = '@loom/ml/tasks';

export type TaskOp = (...args: unknown[]) => Delayed<unknown>;

export function taskOp(exportName: string, options?: TaskOptions): TaskOp {
  return delayed({ module: TASKS_MODULE, export: exportName }, options) as TaskOp;
}
