// How many workers the cluster wants now, from the work it holds and the memory its results take: Dask's
// `Scheduler.adaptive_target` and `workers_to_close` as one pure function over plain counters, so an autoscaler
// (Kubernetes HPA through KEDA, or any loop) can ask the scheduler instead of guessing from CPU load.

/** One connected worker, as the target sees it. */
export interface AdaptiveWorker {
  nthreads: number;
  /** Bytes the worker may use. */
  memoryLimit: number;
  /** Bytes of results it holds in memory. */
  managedBytes: number;
  /** Expected run time of the tasks sent to it and not yet reported back, seconds. */
  occupancySeconds: number;
  /** How many tasks those are. */
  processing: number;
}

export interface AdaptiveInput {
  workers: readonly AdaptiveWorker[];
  /** Tasks ready to run that no worker has yet (queued here, or waiting for a worker that can run them). */
  readyTasks: number;
  /** Their expected run time, seconds, summed. */
  readySeconds: number;
}

export interface AdaptiveOptions {
  /** How long the work held now should take on the wanted workers (Dask's `adaptive.target-duration`). */
  targetDurationSeconds?: number;
  /** Threads a new worker will have, used when none is connected to average over (default 1, as Dask). */
  threadsPerNewWorker?: number;
  /** Above this share of the workers' memory limits in results, ask for twice the workers (Dask: 0.6). */
  memoryHighFraction?: number;
  /** Scaling down keeps workers whose limits add up to this many times the bytes held (Dask: 2). */
  memoryRatio?: number;
}

export interface AdaptiveTarget {
  /** Workers wanted: scale to this. Never fewer than the busy workers (a busy worker is not retired). */
  workers: number;
  /** Workers connected now. */
  current: number;
  /** Workers that would run the held work in the target duration. */
  cpu: number;
  /** Workers wanted for memory (twice the current ones when results fill more than the high fraction, else 0). */
  memory: number;
  readyTasks: number;
  processingTasks: number;
  /** Expected run time of the ready and processing work, seconds. */
  expectedSeconds: number;
  /** Bytes of results in memory, and the workers' limits summed. */
  managedBytes: number;
  memoryLimitBytes: number;
  targetDurationSeconds: number;
}

export const ADAPTIVE_DEFAULTS: Required<AdaptiveOptions> = {
  targetDurationSeconds: 5,
  threadsPerNewWorker: 1,
  memoryHighFraction: 0.6,
  memoryRatio: 2,
};

export function adaptiveTarget(input: AdaptiveInput, options: AdaptiveOptions = {}): AdaptiveTarget {
  const { targetDurationSeconds, threadsPerNewWorker, memoryHighFraction, memoryRatio } = { ...ADAPTIVE_DEFAULTS, ...options };
  if (!(targetDurationSeconds > 0)) throw new RangeError(`targetDurationSeconds must be positive, got ${targetDurationSeconds}`);
  if (!(threadsPerNewWorker >= 1)) throw new RangeError(`threadsPerNewWorker must be at least 1, got ${threadsPerNewWorker}`);
  const { workers, readyTasks, readySeconds } = input;
  let occupancy = readySeconds;
  let processingTasks = 0;
  let threads = 0;
  let managedBytes = 0;
  let memoryLimitBytes = 0;
  for (const worker of workers) {
    occupancy += worker.occupancySeconds;
    processingTasks += worker.processing;
    threads += worker.nthreads;
    managedBytes += worker.managedBytes;
    memoryLimitBytes += worker.memoryLimit;
  }
  // Threads that would finish the work in the target duration, but never more threads than tasks: a few long
  // tasks must not ask for many cores.
  let cpuThreads = Math.min(Math.ceil(occupancy / targetDurationSeconds), readyTasks + processingTasks);
  if (readyTasks > 0) cpuThreads = Math.max(1, cpuThreads);
  const threadsPerWorker = workers.length > 0 ? threads / workers.length : threadsPerNewWorker;
  const cpu = Math.ceil(cpuThreads / threadsPerWorker);
  const memory = memoryLimitBytes > 0 && managedBytes > memoryHighFraction * memoryLimitBytes ? 2 * workers.length : 0;
  const wanted = Math.max(cpu, memory);
  const target = wanted >= workers.length ? wanted : workers.length - retirable(workers, memoryRatio);
  return {
    workers: target,
    current: workers.length,
    cpu,
    memory,
    readyTasks,
    processingTasks,
    expectedSeconds: occupancy,
    managedBytes,
    memoryLimitBytes,
    targetDurationSeconds,
  };
}

/**
 * How many workers could leave at little cost (Dask's `workers_to_close` with a memory ratio): idle ones, those
 * holding least data first, while the remaining workers' limits still hold `memoryRatio` times the data.
 */
function retirable(workers: readonly AdaptiveWorker[], memoryRatio: number): number {
  const idle = workers.filter((worker) => worker.processing === 0).sort((a, b) => a.managedBytes - b.managedBytes);
  let held = 0;
  let limit = 0;
  for (const worker of workers) {
    held += worker.managedBytes;
    limit += worker.memoryLimit;
  }
  let closing = 0;
  for (const worker of idle) {
    limit -= worker.memoryLimit;
    if (limit < memoryRatio * held) break;
    closing += 1;
  }
  return closing;
}
