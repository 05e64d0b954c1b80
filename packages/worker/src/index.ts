// @loom/worker: a Loom worker process. It runs tasks in worker threads, keeps their results, and serves them to
// peers and clients; see README.md.
export { startWorker, type WorkerHandle, type WorkerOptions } from './worker.js';
export { runWorker, parseWorkerArgs, UsageError, USAGE } from './cli.js';
export { readSpillFile, writeSpillFile, SpillFileError, type SpillCompression } from './spill-file.js';
export { DEFAULT_THRESHOLDS, type MemoryThresholds } from './memory-manager.js';
export { processMemory } from './process-memory.js';
// The task state machine and the report batching, without threads or network, for simulations that drive a
// worker's logic directly (the scheduler's fuzzer plays them against the real scheduler state machine).
export { WorkerState, type WorkerStateOptions, type HeldValues } from './worker-state-machine.js';
export { schedulerMessageEvents, type WorkerEvent } from './worker-events.js';
export type { WorkerInstruction } from './worker-instructions.js';
export { ReportBatch } from './report-batch.js';
export type { SchedulerInstructions, TaskAssignment, CancelRequest } from './task-types.js';
export type { ThreadResult, ThreadTask } from './thread-messages.js';
