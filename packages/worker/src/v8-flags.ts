// The V8 flags a worker process starts with: by default `--single-threaded-gc`, which makes each isolate (the
// worker's main thread and every task thread) collect its own garbage on its own thread, instead of handing
// marking, scavenging and sweeping to V8's helper pool (4 threads a process in Node).
//
// Why: a worker already keeps its cores busy with task threads, so GC helpers do not run on idle cores, they
// take time from the task threads. Worse, tasks that stream data through ArrayBuffers (a Parquet file read,
// decompressed, decoded and copied) push V8's external-memory accounting over its limit again and again, and
// each time it starts concurrent marking: measured on bench:many (250,000 ar(8) fits from 5,000 Parquet files,
// 2 workers x 1 thread on 2 cores), the helpers burned 7-8 CPU seconds a worker against 9-10 s in the task
// thread itself, and trainMany took 23.2-24.7 s; with this flag the task threads used about the same time,
// the helpers none, and trainMany took 11.9-13.8 s (the worker's README has the runs). Turning off only
// concurrent marking gave 17.3-18.9 s.
// Collection pauses get longer, which a batch worker does not notice; its main thread's heap is small.
//
// `LOOM_WORKER_V8_FLAGS` replaces the list (whitespace-separated; empty for V8's defaults). V8 reads these
// when the process starts, so they go on the command line of the process we spawn (see @loom/protocol's
// node-flags.ts).
import { nodeFlagsFromEnv } from '@loom/protocol';

export const WORKER_V8_FLAGS_ENV = 'LOOM_WORKER_V8_FLAGS';

const DEFAULT_WORKER_V8_FLAGS: readonly string[] = ['--single-threaded-gc'];

/** The flags a worker process is started with, read from `env` (the spawning process's by default). */
export function workerV8Flags(env: NodeJS.ProcessEnv = process.env): string[] {
  return nodeFlagsFromEnv(env, WORKER_V8_FLAGS_ENV, DEFAULT_WORKER_V8_FLAGS);
}
