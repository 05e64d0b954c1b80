// The progress line of a trainMany run as a person watches it: slices done, failed and total, the rate and the
// time left. On a terminal it is one line rewritten in place; into a file or a pipe it is a plain line every
// few seconds (and the last one), so a log stays readable.
import { formatSeconds } from '@loom/client';
import type { TrainProgress } from '../train-many/run-tally.js';

/** Where a reporter writes: a stream, and whether it is a terminal. */
export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressReporterOptions {
  /** Text before the figures, e.g. the group's name. */
  label?: string;
  /** Least time between two lines when the sink is not a terminal (default 2 s). */
  plainEveryMs?: number;
}

/** Least time between two rewrites on a terminal: faster is invisible, and costs the training loop. */
const TTY_EVERY_MS = 100;

const count = (n: number): string => n.toLocaleString('en-US');

/** `6,400/10,000 slices (12 failed), 2,950/s, ETA 1.2 s` */
export function progressLine(progress: TrainProgress): string {
  const { done, failed, total, rate, etaSeconds } = progress;
  const eta = done >= total ? 'done' : Number.isFinite(etaSeconds) ? `ETA ${seconds(etaSeconds)}` : 'ETA -';
  return `${count(done)}/${count(total)} slices (${count(failed)} failed), ${rate > 0 ? count(Math.round(rate)) : '-'}/s, ${eta}`;
}

/** `0.42 s`, `12 s`, `3 min 05 s`: the same durations as the client's progress bars. */
export const seconds = formatSeconds;

/** Writes progress reports as they arrive: pass `report` as trainMany's onProgress, call `finish` after it returns. */
export class ProgressReporter {
  readonly #sink: ProgressSink;
  readonly #label: string;
  readonly #everyMs: number;
  #last = -Infinity;
  #pending: TrainProgress | undefined;
  #rewriting = false;

  constructor(sink: ProgressSink, options: ProgressReporterOptions = {}) {
    this.#sink = sink;
    this.#label = options.label === undefined ? '' : `${options.label}: `;
    this.#everyMs = sink.isTTY === true ? TTY_EVERY_MS : (options.plainEveryMs ?? 2000);
  }

  readonly report = (progress: TrainProgress): void => {
    const now = performance.now();
    if (now - this.#last < this.#everyMs && progress.done < progress.total) {
      this.#pending = progress;
      return;
    }
    this.#write(progress);
    this.#last = now;
  };

  /** Writes the last report if it was held back, and ends a rewritten line. */
  finish(): void {
    if (this.#pending !== undefined) this.#write(this.#pending);
    if (this.#rewriting) this.#sink.write('\n');
    this.#rewriting = false;
  }

  #write(progress: TrainProgress): void {
    this.#pending = undefined;
    const line = `${this.#label}${progressLine(progress)}`;
    if (this.#sink.isTTY === true) {
      // Carriage return, the line, then erase what a longer previous line left to its right.
      this.#sink.write(`\r${line}\x1b[K`);
      this.#rewriting = true;
    } else {
      this.#sink.write(`${line}\n`);
    }
  }
}
