// progress(x): shows how far x has got, per task prefix, while it runs, and resolves when it is done. Futures
// are watched; delayed values and DataFrames are computed; a function runs with every graph its client submits
// meanwhile counted (DataFrame writers, trainMany), plus any counts it reports itself.
import { Client } from '../client.js';
import { currentClient } from '../current-client.js';
import { DataFrame, type Computed } from '../dataframe/dataframe.js';
import { Delayed, type DelayedValues } from '../delayed.js';
import { Future, futureState, releasedError } from '../future.js';
import { ProgressDisplay, type ProgressDisplayOptions } from './progress-display.js';
import { ProgressTracker, type ExternalCounts, type ProgressSnapshot } from './progress-tracker.js';

export interface ProgressOptions extends ProgressDisplayOptions {
  /** The client that runs the work (default: the current client). Futures are watched whichever client made them. */
  client?: Client;
}

/** What progress(futures) resolves to: the final counts and how long it watched. */
export interface ProgressSummary extends ProgressSnapshot {
  seconds: number;
}

/** Handed to a function given to progress(): feeds it counts that do not come from tasks of the client's graphs. */
export interface ProgressMeter {
  /**
   * A callback that draws the counts it is given as a row named `name`, e.g. trainMany's onProgress:
   * `progress((meter) => trainMany(client, { ...options, onProgress: meter.counter('slices') }))`.
   */
  counter(name: string): (counts: ExternalCounts) => void;
}

/** Watches futures until every one has finished, erred or been cancelled; task failures do not reject. */
export function progress(futures: Future<unknown> | readonly Future<unknown>[], options?: ProgressOptions): Promise<ProgressSummary>;
/** Computes a delayed value, showing the progress of its graph; resolves with the value. */
export function progress<T>(value: Delayed<T>, options?: ProgressOptions): Promise<T>;
/** Computes delayed values as one graph, showing its progress; resolves with their values. */
export function progress<const T extends readonly Delayed<unknown>[]>(values: T, options?: ProgressOptions): Promise<DelayedValues<T>>;
/** Computes a DataFrame (DataFrame#compute), showing the progress of its graph. */
export function progress<P>(frame: DataFrame<P>, options?: ProgressOptions): Promise<Computed<P>>;
/** Runs `work`, counting every graph the client submits until it settles; resolves or rejects as `work` does. */
export function progress<T>(work: (meter: ProgressMeter) => Promise<T>, options?: ProgressOptions): Promise<T>;
export function progress(target: unknown, options: ProgressOptions = {}): Promise<unknown> {
  if (target instanceof Future) return watchFutures([target], options);
  if (target instanceof Delayed) return runWork(options, (client) => client.computeDelayed([target]).then((values) => values[0]));
  if (target instanceof DataFrame) return runWork(options, (client) => target.compute(client));
  if (typeof target === 'function') return runWork(options, (_client, meter) => (target as (meter: ProgressMeter) => Promise<unknown>)(meter));
  if (Array.isArray(target)) {
    if (target.every((item) => item instanceof Future)) return watchFutures(target as Future<unknown>[], options);
    if (target.every((item) => item instanceof Delayed)) return runWork(options, (client) => client.computeDelayed(target as Delayed<unknown>[]));
    return Promise.reject(new TypeError('progress() takes an array of futures or an array of delayed values, not a mix'));
  }
  return Promise.reject(new TypeError(`progress() takes futures, delayed values, a DataFrame or a function, not ${describe(target)}`));
}

async function watchFutures(futures: readonly Future<unknown>[], options: ProgressOptions): Promise<ProgressSummary> {
  const released = futures.find((future) => future.released);
  if (released !== undefined) throw releasedError(released.key);
  const tracker = new ProgressTracker();
  const settled = new Promise<ProgressSnapshot>((resolve) => {
    const stop = tracker.subscribe((snapshot) => {
      if (!snapshot.settled) return;
      stop();
      resolve(snapshot);
    });
  });
  const started = performance.now();
  const display = new ProgressDisplay(tracker, options).start();
  try {
    tracker.addKeys(futures.map(futureState));
    const snapshot = await settled;
    return { ...snapshot, seconds: (performance.now() - started) / 1000 };
  } finally {
    display.finish();
  }
}

async function runWork<T>(options: ProgressOptions, work: (client: Client, meter: ProgressMeter) => Promise<T>): Promise<T> {
  const client = options.client ?? currentClient();
  if (!(client instanceof Client)) throw new TypeError('progress() needs a Client (Client.connect(address)) to count its graphs');
  const tracker = new ProgressTracker();
  const meter: ProgressMeter = { counter: (name) => (counts) => tracker.setExternal(name, counts) };
  const detach = client.trackGraphs(tracker);
  const display = new ProgressDisplay(tracker, options).start();
  try {
    return await work(client, meter);
  } finally {
    detach();
    display.finish();
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'an object';
}
