// Draws a ProgressTracker: on a terminal, a block of bar rows redrawn in place (log-update does the cursor
// work and rewrites only the rows that changed); elsewhere (a file, a pipe, CI) a plain line every few
// seconds when something moved, and a last line at the end, with no escape codes at all.
import { createLogUpdate } from 'log-update';
import { PaceMeter, plainLine, terminalFrame } from './progress-format.js';
import type { ProgressTracker } from './progress-tracker.js';

/** Where progress is drawn: process.stderr by default; `isTTY` decides between the bar and plain lines. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
}

export interface ProgressDisplayOptions {
  /** Default process.stderr, so that progress does not mix with a program's output on stdout. */
  stream?: ProgressStream;
  /** Time between redraws, ms: default 100 on a terminal, 2,000 for plain lines. */
  intervalMs?: number;
  /** The first word of each line or frame (default 'progress'). */
  label?: string;
}

const TTY_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 2_000;

export class ProgressDisplay {
  readonly #tracker: ProgressTracker;
  readonly #stream: ProgressStream;
  readonly #label: string;
  readonly #intervalMs: number;
  readonly #startedAt = performance.now();
  readonly #meter = new PaceMeter(this.#startedAt);
  readonly #draw: ((text: string) => void) & { done(): void } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #drawnVersion = -1;
  #finished = false;

  constructor(tracker: ProgressTracker, options: ProgressDisplayOptions = {}) {
    this.#tracker = tracker;
    this.#stream = options.stream ?? process.stderr;
    this.#label = options.label ?? 'progress';
    const tty = this.#stream.isTTY === true;
    this.#intervalMs = options.intervalMs ?? (tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS);
    // The cursor stays visible: hiding it would make log-update install exit handlers to show it again.
    this.#draw = tty ? createLogUpdate(withSize(this.#stream) as NodeJS.WritableStream, { showCursor: true }) : undefined;
  }

  /** Starts redrawing; the timer never keeps the process alive, and finish() stops it. */
  start(): this {
    if (this.#timer !== undefined || this.#finished) return this;
    this.#timer = setInterval(() => this.#tick(false), this.#intervalMs);
    this.#timer.unref();
    if (this.#draw !== undefined) this.#tick(false);
    return this;
  }

  /** Draws the final state (on a terminal, leaves it in the scrollback) and stops the timer. Idempotent. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#tick(true);
    this.#draw?.done();
  }

  #tick(final: boolean): void {
    const version = this.#tracker.version;
    // Nothing moved: a terminal still redraws for its clock; a log gets no repeated line.
    if (!final && version === this.#drawnVersion && this.#draw === undefined) return;
    this.#drawnVersion = version;
    const now = performance.now();
    const snapshot = this.#tracker.snapshot();
    const paces = this.#meter.measure(snapshot, now);
    const elapsed = (now - this.#startedAt) / 1000;
    if (this.#draw !== undefined) this.#draw(terminalFrame(this.#label, snapshot, paces, elapsed, final));
    else this.#stream.write(`${plainLine(this.#label, snapshot, paces, elapsed, final)}\n`);
  }
}

/**
 * The stream as log-update sees it, with a usable size: a pseudo-terminal nobody sized (script, CI runners)
 * reports 0 columns and 0 rows, and log-update then wraps at width 0 and draws nothing at height 0.
 */
function withSize(stream: ProgressStream): ProgressStream {
  return {
    isTTY: true,
    write: (text) => stream.write(text),
    get columns() {
      return stream.columns || 80;
    },
    get rows() {
      return stream.rows || 24;
    },
  };
}
