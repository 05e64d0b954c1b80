// How progress reads as text: a bar row per task prefix for a terminal, one plain line for logs, and the rate
// and time left per prefix, estimated from successive snapshots.
import type { PrefixProgress, ProgressSnapshot } from './progress-tracker.js';

const BAR_WIDTH = 24;
const NAME_WIDTH = 28;
/** Time constant of the rate's moving average: long enough to be steady, short enough to follow a slowdown. */
const RATE_SECONDS = 5;

export const count = (n: number): string => n.toLocaleString('en-US');

/** `0.42 s`, `12 s`, `3 min 05 s` */
export function formatSeconds(s: number): string {
  if (s < 10) return `${s.toFixed(s < 1 ? 2 : 1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

/** Rate and time left of one prefix. */
export interface PrefixPace {
  /** Tasks per second settling now (over the whole run once the prefix is complete); undefined before any did. */
  rate: number | undefined;
  /** Seconds left at that rate; 0 once complete, undefined while unknown. */
  etaSeconds: number | undefined;
}

interface PaceState {
  startedAt: number;
  lastAt: number;
  lastSettled: number;
  rate: number | undefined;
  completedAt: number | undefined;
}

/** Follows the rate at which each prefix's tasks run (finish or fail) across snapshots; O(prefixes) per snapshot. */
export class PaceMeter {
  readonly #states = new Map<string, PaceState>();

  /** `startedAt` (ms, performance.now()): when the work began, so that the first snapshot already has a rate. */
  constructor(private readonly startedAt: number) {}

  /** The pace of each prefix of `snapshot`, taken at `now` (ms, performance.now()). */
  measure(snapshot: ProgressSnapshot, now: number): Map<string, PrefixPace> {
    const paces = new Map<string, PrefixPace>();
    for (const prefix of snapshot.prefixes) paces.set(prefix.prefix, this.#pace(prefix, now));
    return paces;
  }

  #pace(progress: PrefixProgress, now: number): PrefixPace {
    let state = this.#states.get(progress.prefix);
    if (state === undefined) {
      state = { startedAt: this.startedAt, lastAt: this.startedAt, lastSettled: 0, rate: undefined, completedAt: undefined };
      this.#states.set(progress.prefix, state);
    }
    // Cancelled tasks did not run: counting them would make an abandoned computation look fast.
    const settled = progress.done + progress.erred;
    if (progress.pending === 0) {
      state.completedAt ??= now;
      const seconds = (state.completedAt - state.startedAt) / 1000;
      return { rate: seconds > 0 && settled > 0 ? settled / seconds : undefined, etaSeconds: 0 };
    }
    state.completedAt = undefined;
    const dt = (now - state.lastAt) / 1000;
    if (dt > 0) {
      if (state.rate === undefined) {
        // The first rate is the average since the prefix appeared, so a bar drawn rarely still shows one.
        if (settled > 0) state.rate = settled / ((now - state.startedAt) / 1000);
      } else {
        const instant = (settled - state.lastSettled) / dt;
        state.rate += (1 - Math.exp(-dt / RATE_SECONDS)) * (instant - state.rate);
      }
      state.lastAt = now;
      state.lastSettled = settled;
    }
    const rate = state.rate;
    return { rate, etaSeconds: rate !== undefined && rate > 0 ? progress.pending / rate : undefined };
  }
}

function figures(progress: PrefixProgress, pace: PrefixPace | undefined): string {
  const parts = [`${count(progress.done)}/${count(progress.total)}`];
  if (progress.erred > 0) parts.push(`${count(progress.erred)} erred`);
  if (progress.cancelled > 0) parts.push(`${count(progress.cancelled)} cancelled`);
  const rate = pace?.rate;
  if (rate !== undefined) parts.push(`${count(rate >= 100 ? Math.round(rate) : Number(rate.toPrecision(2)))}/s`);
  else if (progress.pending > 0) parts.push('-/s');
  if (progress.pending > 0) parts.push(pace?.etaSeconds === undefined ? 'ETA -' : `ETA ${formatSeconds(pace.etaSeconds)}`);
  return parts.join('  ');
}

function fixedName(prefix: string): string {
  return prefix.length > NAME_WIDTH ? `${prefix.slice(0, NAME_WIDTH - 1)}…` : prefix.padEnd(NAME_WIDTH);
}

function bar(progress: PrefixProgress): string {
  if (progress.total === 0) return ' '.repeat(BAR_WIDTH);
  const filled = Math.floor((BAR_WIDTH * progress.done) / progress.total);
  const failed = Math.min(BAR_WIDTH - filled, Math.ceil((BAR_WIDTH * progress.erred) / progress.total));
  return `${'█'.repeat(filled)}${'▒'.repeat(failed)}${'░'.repeat(BAR_WIDTH - filled - failed)}`;
}

/** The terminal frame: a header, then a row per prefix with its bar. */
export function terminalFrame(label: string, snapshot: ProgressSnapshot, paces: ReadonlyMap<string, PrefixPace>, elapsedSeconds: number, final: boolean): string {
  const rows = [heading(label, elapsedSeconds, final)];
  for (const prefix of snapshot.prefixes) rows.push(`  ${fixedName(prefix.prefix)} ${bar(prefix)} ${figures(prefix, paces.get(prefix.prefix))}`);
  return rows.join('\n');
}

/** One line for a log: `progress 3.2 s: inc 640/1,000  2,950/s  ETA 1.2 s; sum 0/1  -/s  ETA -` */
export function plainLine(label: string, snapshot: ProgressSnapshot, paces: ReadonlyMap<string, PrefixPace>, elapsedSeconds: number, final: boolean): string {
  const head = heading(label, elapsedSeconds, final);
  if (snapshot.prefixes.length === 0) return `${head}: no tasks`;
  return `${head}: ${snapshot.prefixes.map((prefix) => `${prefix.prefix} ${figures(prefix, paces.get(prefix.prefix))}`).join('; ')}`;
}

function heading(label: string, elapsedSeconds: number, final: boolean): string {
  return final ? `${label} finished in ${formatSeconds(elapsedSeconds)}` : `${label} ${formatSeconds(elapsedSeconds)}`;
}
