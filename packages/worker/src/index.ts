// @loom/worker: a Loom worker process. It runs tasks in worker threads, keeps their results, and serves them to
// peers and clients; see README.md.
export { startWorker, type WorkerHandle, type WorkerOptions } from './worker.js';
export { runWorker, parseWorkerArgs, UsageError, USAGE } from './cli.js';
export { readSpillFile, writeSpillFile, SpillFileError, type SpillCompression } from './spill-file.js';
export { DEFAULT_THRESHOLDS, type MemoryThresholds } from './memory-manager.js';
export { processMemory } from './process-memory.js';
