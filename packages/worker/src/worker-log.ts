// The worker's recent log lines, for the dashboard's worker page: the worker's logger tees each JSON line it writes
// to stderr into this ring (createLogger's `tee`), and each heartbeat takes the lines since the previous one, timed
// back from it since no clock is shared between machines (as WorkerActivity does for transfers). A worker logging
// in a loop still costs a bounded heartbeat: a message and its fields are cut at `TEXT_LIMIT` each, at most
// `capacity` lines wait (the newest; older ones are only counted) and one heartbeat carries at most `budgetBytes`
// of them. Only this process's lines: the nanny has no session with the scheduler, and logs to its own stderr.
import { encodedSizeBound, type LogTee } from '@loom/protocol';
import type { WorkerLogReport } from './task-types.js';

/** UTF-16 code units of a message, and of its fields' JSON, that a line keeps. */
export const TEXT_LIMIT = 2048;
/** Lines one heartbeat carries at most: a page shows a few hundred, so more than this a second is a flood. */
export const DEFAULT_LOG_CAPACITY = 64;
/** Wire-size bound of one heartbeat's lines: 64 short lines fit; 5 cut at both limits do. */
export const DEFAULT_LOG_BUDGET_BYTES = 64 * 1024;

/** Fields every line of this process repeats (the logger's base, pino's own), which the page shows elsewhere. */
const OMITTED_FIELDS: ReadonlySet<string> = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'worker']);
/** pino's info: the level of a line that is not pino's JSON (nothing writes one, but a tee must not throw). */
const INFO = 30;
/** A line up to this long waits in the ring as written and is parsed only if a heartbeat takes it. */
const RAW_LIMIT = 4 * TEXT_LIMIT;

interface ParsedLine {
  level: number;
  msg: string;
  fields: string;
}

interface LogRecord {
  /** performance.now() when written, which pino does at the log call. */
  at: number;
  /** As written, or parsed and cut already when it was long. */
  line: string | ParsedLine;
}

export class WorkerLogRing implements LogTee {
  /** The next line goes to `#next % capacity`; `#count` are held. */
  readonly #ring: (LogRecord | undefined)[];
  #next = 0;
  #count = 0;
  #dropped = 0;

  constructor(
    private readonly capacity = DEFAULT_LOG_CAPACITY,
    private readonly budgetBytes = DEFAULT_LOG_BUDGET_BYTES,
  ) {
    this.#ring = new Array<LogRecord | undefined>(capacity);
  }

  /**
   * One JSON line as pino writes it (with its newline). Parsing waits for a heartbeat, so the lines of a flood
   * that the ring lets go (debug logs a line per task) cost nothing more; a long line is parsed and cut now, so
   * the ring holds `capacity` short strings at most.
   */
  write(line: string): void {
    this.#push({ at: performance.now(), line: line.length <= RAW_LIMIT ? line : parseLine(line) });
  }

  /**
   * The lines since the last call, oldest first, timed back from `now` (performance.now()): the newest that fit
   * the budget, and how many more there were. Both start again from nothing.
   */
  take(now = performance.now()): { lines: WorkerLogReport[]; dropped: number } {
    const lines: WorkerLogReport[] = [];
    let dropped = this.#dropped;
    let bytes = 0;
    for (let i = this.#next - 1; i >= this.#next - this.#count; i--) {
      const record = this.#ring[i % this.capacity] as LogRecord;
      const parsed = typeof record.line === 'string' ? parseLine(record.line) : record.line;
      const line = { level: parsed.level, msAgo: Math.max(0, now - record.at), msg: parsed.msg, fields: parsed.fields };
      const size = encodedSizeBound(line);
      if (bytes + size > this.budgetBytes) {
        dropped += i - (this.#next - this.#count) + 1;
        break;
      }
      bytes += size;
      lines.push(line);
    }
    this.#ring.fill(undefined);
    this.#count = 0;
    this.#dropped = 0;
    return { lines: lines.reverse(), dropped };
  }

  #push(record: LogRecord): void {
    if (this.#count === this.capacity) this.#dropped += 1;
    else this.#count += 1;
    this.#ring[this.#next % this.capacity] = record;
    this.#next += 1;
  }
}

function parseLine(line: string): ParsedLine {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return { level: INFO, msg: cut(line.trimEnd()), fields: '' };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return { level: INFO, msg: cut(line.trimEnd()), fields: '' };
  const { level, msg } = record as { level?: unknown; msg?: unknown };
  const rest: Record<string, unknown> = {};
  let any = false;
  for (const [name, value] of Object.entries(record)) {
    if (OMITTED_FIELDS.has(name)) continue;
    rest[name] = value;
    any = true;
  }
  return {
    level: typeof level === 'number' ? level : INFO,
    msg: cut(typeof msg === 'string' ? msg : msg === undefined ? '' : String(msg)),
    fields: any ? cut(JSON.stringify(rest)) : '',
  };
}

/** `text` within TEXT_LIMIT code units, ending in '…' when cut, never halving a surrogate pair. */
export function cut(text: string): string {
  if (text.length <= TEXT_LIMIT) return text;
  let end = TEXT_LIMIT - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
