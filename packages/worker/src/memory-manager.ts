// The worker's memory policy, after Dask's: above `target` of the memory limit in managed bytes, spill the least
// recently used results; above `spill` of it in process RSS, keep spilling until below `target` (or nothing is
// left in memory); above `pause`, start no new task and throttle serving peers until memory drops. `terminate` is
// the nanny's business (nanny.ts): only a parent process can restart a worker that ran away.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '@loom/protocol';

/** Fractions of the memory limit; `false` turns that step off. */
export interface MemoryThresholds {
  target: number | false;
  spill: number | false;
  pause: number | false;
  terminate: number | false;
}

export const DEFAULT_THRESHOLDS: MemoryThresholds = { target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95 };

/** What the manager spills from; SpillStore implements it. */
export interface Spillable {
  readonly managedBytes: number;
  readonly inMemoryCount: number;
  spillOldest(): number | undefined;
  spillUntil(bytes: number): number;
}

export interface MemoryManagerOptions {
  store: Spillable;
  memoryLimit: number;
  thresholds: MemoryThresholds;
  /** Resident set size of this process, task threads included. */
  rss(): number;
  /** Called when the worker pauses or resumes. */
  onPauseChange(paused: boolean): void;
  /** Tasks running now (their memory comes back when they finish). Default: none known. */
  runningTasks?(): number;
  logger: Logger;
  /** How often memory is checked besides after each task result. Default 100 ms. */
  intervalMs?: number;
  /** Monotonic clock in ms (tests pass their own). Default `performance.now`. */
  now?(): number;
}

const DEFAULT_INTERVAL_MS = 100;
/**
 * After a task result, RSS is read again only if the last reading is older than this. Reading it is a /proc read
 * (tens of microseconds on a busy machine: ~5 % of a worker's main thread in a stream of short tasks, profiled);
 * a decision taken on a reading at most 10 ms old, a tenth of the periodic check's interval, is as good as a fresh
 * one, and managed bytes, which a large result raises at once, are always current.
 */
const RESULT_RSS_MAX_AGE_MS = 10;
/** A full collection costs milliseconds; under memory pressure we allow one this often. */
const GC_INTERVAL_MS = 1_000;

export class MemoryManager {
  private timer: NodeJS.Timeout | undefined;
  private pausedNow = false;
  private warnedUnmanaged = false;
  private lastGc = 0;
  private lastRss = 0;
  private lastRssAt = -Infinity;

  constructor(private readonly options: MemoryManagerOptions) {}

  get paused(): boolean {
    return this.pausedNow;
  }

  get rssBytes(): number {
    return this.lastRss;
  }

  start(): void {
    this.timer ??= setInterval(() => this.check(), this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.timer.unref();
    this.check();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Applies the policy after task results: as `check`, but RSS is re-read only when the last reading is more than
   * 10 ms old, so a stream of short tasks does not pay a /proc read each. Managed bytes are always current.
   */
  checkAfterResults(): void {
    this.check(this.now() - this.lastRssAt < RESULT_RSS_MAX_AGE_MS);
  }

  /** Applies the policy once (one RSS read unless `reuseRss`, no allocation). */
  check(reuseRss = false): void {
    const { store, memoryLimit, thresholds, logger } = this.options;
    const target = fraction(thresholds.target, memoryLimit);
    if (target !== undefined && store.managedBytes > target) {
      const freed = store.spillUntil(target);
      if (freed > 0) logger.debug({ freed, managed: store.managedBytes }, 'spilled above the managed-memory target');
    }
    let rss = reuseRss ? this.lastRss : this.measure();
    const spill = fraction(thresholds.spill, memoryLimit);
    if (spill !== undefined && rss > spill) {
      rss = this.collect(rss);
      // RSS does not shrink the moment a value is dropped, so count what we freed instead of re-measuring.
      const goal = target ?? spill;
      let estimate = rss;
      let freed = 0;
      while (estimate > goal && store.inMemoryCount > 0) {
        const step = store.spillOldest();
        if (step === undefined) break;
        freed += step;
        estimate -= step;
      }
      if (freed > 0) {
        logger.info({ rss, freed, limit: memoryLimit }, 'process memory above the spill threshold: spilled to disk');
        rss = this.collect(rss, true);
      }
    }
    const pause = fraction(thresholds.pause, memoryLimit);
    if (pause !== undefined && rss > pause && !this.pausedNow) rss = this.collect(rss, true);
    // Pausing waits for memory to come back as running tasks finish and results are spilled, released or fetched
    // away. When no task is running and the process is above the threshold even without its results, there is
    // nothing to wait for: the memory is the process's own (code, thread heaps, native sessions), and pausing
    // would stall the worker for good. It keeps working instead, one warning logged; the terminate threshold
    // still guards the limit.
    const nothingToWaitFor = pause !== undefined && (this.options.runningTasks?.() ?? 0) === 0 && rss - store.managedBytes > pause;
    const shouldPause = pause !== undefined && rss > pause && !nothingToWaitFor;
    if (pause !== undefined && rss > pause && nothingToWaitFor && !this.warnedUnmanaged) {
      this.warnedUnmanaged = true;
      logger.warn({ rss, limit: memoryLimit }, 'process memory above the pause threshold with no results to spill: not pausing (raise the memory limit)');
    }
    if (shouldPause !== this.pausedNow) {
      this.pausedNow = shouldPause;
      if (shouldPause) logger.warn({ rss, limit: memoryLimit }, 'process memory above the pause threshold: pausing');
      else logger.info({ rss, limit: memoryLimit }, 'process memory back below the pause threshold: resuming');
      this.options.onPauseChange(shouldPause);
    }
  }

  private now(): number {
    return this.options.now?.() ?? performance.now();
  }

  private measure(): number {
    this.lastRss = this.options.rss();
    this.lastRssAt = this.now();
    return this.lastRss;
  }

  /** A throttled full GC, so memory we already let go of shows in RSS before we decide to pause (Dask's ThrottledGC). */
  private collect(rss: number, force = false): number {
    const now = Date.now();
    if (!force && now - this.lastGc < GC_INTERVAL_MS) return rss;
    if (force && now - this.lastGc < GC_INTERVAL_MS / 4) return rss;
    this.lastGc = now;
    collectGarbage();
    return this.measure();
  }
}

function fraction(value: number | false, limit: number): number | undefined {
  return value === false ? undefined : value * limit;
}

let gc: (() => void) | undefined;
/** V8's collector, obtained at run time (the same as starting node with --expose-gc, without asking the user to). */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** Parses a threshold flag: a fraction in (0, 1], or false/off/none to turn it off. */
export function parseThreshold(name: string, text: string | number | false): number | false {
  if (text === false || text === 'false' || text === 'off' || text === 'none') return false;
  const value = typeof text === 'number' ? text : Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 1) throw new RangeError(`${name} must be a fraction of the memory limit in (0, 1] or 'false', got '${text}'`);
  return value;
}
