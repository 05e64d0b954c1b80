// One read of an extension section's source per interval, shared by every viewer: requests within `maxAgeMs` of
// the last read get its answer, requests during a read wait for that read, and nothing is read while no one asks.
// A read that throws or hangs becomes an error line beside the last content that worked (logged once per
// outage, not per request), and the next request after `maxAgeMs` tries again, so a source that comes back
// is shown again without a restart.
import { isSectionContent, type DashboardExtension, type SectionAnswer, type SectionCell, type SectionContent } from './section-content.js';

export interface SectionCacheOptions {
  /** How old an answer may be before a request reads again (default 2000 ms). */
  maxAgeMs?: number;
  /** A read taking longer is reported as failed (SECTION_TIMEOUT) and tried again later (default 10000 ms). */
  timeoutMs?: number;
}

export interface SectionLog {
  warn?: (message: string) => void;
  info?: (message: string) => void;
}

const DEFAULT_MAX_AGE_MS = 2_000;
const DEFAULT_TIMEOUT_MS = 10_000;
/** An error message longer than this is cut: the page shows one line, and a log line should stay one line. */
const MAX_MESSAGE = 500;
/** Rows a section that returns plain rows may show. */
const MAX_PLAIN_ROWS = 500;

export class SectionCache {
  readonly #extension: DashboardExtension;
  readonly #maxAgeMs: number;
  readonly #timeoutMs: number;
  readonly #log: SectionLog;
  #content: SectionContent = { tables: [] };
  #readAtMs: number | null = null;
  #error: SectionAnswer['error'];
  #inFlight: Promise<void> | undefined;
  #lastDoneMs = Number.NEGATIVE_INFINITY;
  /** Reads started, for tests of the sharing. */
  reads = 0;

  constructor(extension: DashboardExtension, options: SectionCacheOptions = {}, log: SectionLog = {}) {
    this.#extension = extension;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#log = log;
  }

  get id(): string {
    return this.#extension.id;
  }

  get title(): string {
    return this.#extension.title;
  }

  /** The section now: from the last read if it is recent enough, else after a read (shared with concurrent askers). */
  async answer(): Promise<SectionAnswer> {
    if (this.#inFlight === undefined && Date.now() - this.#lastDoneMs >= this.#maxAgeMs) this.#inFlight = this.#read();
    if (this.#inFlight !== undefined) await this.#inFlight;
    return { title: this.title, ...this.#content, readAtMs: this.#readAtMs, ...(this.#error === undefined ? {} : { error: this.#error }) };
  }

  async close(): Promise<void> {
    await this.#extension.close?.();
  }

  async #read(): Promise<void> {
    this.reads += 1;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${this.#timeoutMs} ms`), { code: 'SECTION_TIMEOUT' })), this.#timeoutMs);
    });
    try {
      // A hung read is left behind (its result ignored): the next request starts a fresh one.
      const value = await Promise.race([Promise.resolve().then(() => this.#extension.data()), timeout]);
      this.#content = asContent(value, this.#extension.title);
      this.#readAtMs = Date.now();
      if (this.#error !== undefined) this.#log.info?.(`dashboard section '${this.id}' reads its data again`);
      this.#error = undefined;
    } catch (error) {
      const failure = describe(error);
      // Once per outage: a Redis that is down for an hour must not write a line per viewer every 2 s.
      if (this.#error === undefined) this.#log.warn?.(`dashboard section '${this.id}' cannot read its data (${failure.code}): ${failure.message}`);
      this.#error = { ...failure, sinceMs: this.#error?.sinceMs ?? Date.now() };
    } finally {
      clearTimeout(timer);
      this.#lastDoneMs = Date.now();
      this.#inFlight = undefined;
    }
  }
}

function describe(error: unknown): { code: string; message: string } {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'SECTION_FAILED';
  const text = error instanceof Error ? error.message : String(error);
  return { code, message: text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text };
}

/** A section's data as content: content as it is; plain rows (the first extension format) as one table. */
function asContent(value: unknown, title: string): SectionContent {
  if (isSectionContent(value)) return value;
  const list = Array.isArray(value) ? value : [value];
  const records = list.slice(0, MAX_PLAIN_ROWS).map((row): Record<string, unknown> => (row !== null && typeof row === 'object' && !Array.isArray(row) ? (row as Record<string, unknown>) : { value: row }));
  const keys = [...new Set(records.flatMap((record) => Object.keys(record)))];
  const cell = (value: unknown): SectionCell => (value === undefined ? null : value === null || typeof value !== 'object' ? (value as SectionCell) : JSON.stringify(value));
  return {
    tables: [{
      id: 'rows',
      title,
      columns: keys.map((key) => ({ key, label: key })),
      // Plain rows have no key of their own: their position is one.
      rows: records.map((record, index) => ({ '#': index, ...Object.fromEntries(keys.map((key) => [key, cell(record[key])])) })),
      rowKey: '#',
      omitted: Math.max(0, list.length - MAX_PLAIN_ROWS),
    }],
  };
}
