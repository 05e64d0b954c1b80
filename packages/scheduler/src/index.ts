// @loom/scheduler: the task-graph scheduler: a pure state machine (SchedulerState) and its gRPC shell.
export { SchedulerState, type SchedulerConfig } from './scheduler-state.js';
export { stimuliFromWorkerReport } from './stimuli.js';
export type {
  Stimulus,
  StimulusEvent,
  Instruction,
  NewTask,
  KeyUpdate,
  FinishedTask,
  FailedTask,
  MissingInputs,
  RunId,
  WorkerAnnouncement,
  WorkerReport,
} from './stimuli.js';
export type { TaskStateName, FunctionDefinition, TaskError } from './task-state.js';
export { SchedulerServer, startScheduler, SCHEDULER_VERSION, type SchedulerOptions, type SchedulerHandle } from './scheduler-server.js';
export { runScheduler, SCHEDULER_USAGE } from './cli.js';
export { warmUpScheduler, type SchedulerWarmUpOptions, type SchedulerWarmUpResult } from './warm-up.js';
export { SchedulerDashboardSource } from './dashboard-source.js';
export { adaptiveTarget, ADAPTIVE_DEFAULTS, type AdaptiveInput, type AdaptiveWorker, type AdaptiveOptions, type AdaptiveTarget } from './adaptive-target.js';
export { adaptiveInput, type AdaptiveScope } from './adaptive-input.js';
export { adaptiveRoute, type AdaptiveAnswer } from './adaptive-route.js';
export { TaskActivity, type TaskEventRecord, type TaskFailureRecord } from './task-activity.js';
