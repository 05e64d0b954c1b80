// @loom/client: the API Loom users write. Lazy graphs (delayed, compute, persist), futures (Client#submit, map,
// gather, asCompleted), the raw graph API (task, ref, Client#get) and LocalCluster for a cluster on this machine.
export { Client, type ConnectOptions, type MapOptions } from './client.js';
export { LocalCluster, type LocalClusterOptions, type LocalDashboardOptions, type AddWorkerOptions, type LocalWorker } from './local-cluster.js';
export { LoomProcess, killPid, type ExitStatus, type LaunchOptions } from './child-process.js';
export { ReconnectingClient, type ReconnectOptions } from './reconnecting-client.js';
export { EmbeddedRedis, redisServerAvailable, type EmbeddedRedisOptions } from './embedded-redis.js';
export { Delayed, delayed, compute, persist, type DelayedFunction, type DelayedValues, type Lift, type LiftedArgs } from './delayed.js';
export { Future, type FutureStatus } from './future.js';
export type { Gathered } from './gather.js';
export { task, taskWith, ref, RawTask, RawRef, type RawGraph } from './raw-graph.js';
export type { TaskOptions } from './task-node.js';
export type { AnyFunction, ModuleFunction } from './function-source.js';
export type { SchedulerInfo, WorkerSummary } from './cluster-info.js';
export { progress, type ProgressMeter, type ProgressOptions, type ProgressSummary } from './progress/progress.js';
export type { ExternalCounts, PrefixProgress, ProgressListener, ProgressSnapshot } from './progress/progress-tracker.js';
export type { ProgressStream } from './progress/progress-display.js';
export { formatSeconds } from './progress/progress-format.js';
export { LoomError, isLoomError, keyPrefix, type LoomErrorCode } from '@loom/protocol';
export * as dataframe from './dataframe/index.js';
