// @loom/protocol: what every Loom process shares: the wire messages and services, errors, value encoding,
// authentication, logging and byte sizes.
export { pb, type loom } from './wire.js';
export { schedulerService, workerService, type SchedulerServiceDefinition, type WorkerServiceDefinition } from './services.js';
export * from './errors.js';
export * from './value-codec.js';
export { asLoomTable, isArrowTableLike, readArrowIpc, type ArrowTableLike } from './arrow-input.js';
export { describeValue } from './describe-value.js';
export { keyPrefix } from './key-prefix.js';
export * from './task-args.js';
export * from './fused-chain.js';
export * from './auth.js';
export * from './grpc-options.js';
export * from './sizes.js';
export { Outbox } from './outbox.js';
export { encodedSizeBound, taskFinishedSizeBound } from './wire-size.js';
export { createLogger, LOG_LEVEL_ENV, LOG_LEVELS, logLevelName, type LogLevel, type Logger, type LoggerOptions, type LogTee } from './logger.js';
export { SERVER_FLAGS, tlsFromFlags } from './cli-flags.js';
export { nodeFlagsFromEnv, rerunWithFlags, runningWithFlags } from './node-flags.js';
export { LoopbackStream, WARMUP_ENV, nextTurn, silentLogger, warmUpEnabled } from './warm-up.js';
