// What an extension section shows: a row of figures (tiles) and tables whose columns say how to draw their
// cells (a count, a time, a state pill, a progress bar, a list of ids to expand). The page draws any section
// from this description alone, so a package adds a page without shipping browser code.

/** How a tile or a state pill is coloured: good news, something to look at, something wrong, or running. */
export type SectionTone = 'ok' | 'warn' | 'bad' | 'active' | 'muted';

export interface SectionTile {
  label: string;
  value: number | string;
  /** A line under the figure (what it counts, a total it is part of). */
  sub?: string;
  tone?: SectionTone;
}

/**
 * How a column's cells are drawn:
 * - `text` (default), `code` (monospace: ids, cron patterns);
 * - `number`: a count, right-aligned;
 * - `time`: an ISO time (or ms since the epoch) shown as "12 s ago" / "in 3 min", relative to when it was read;
 * - `duration`: milliseconds, "1.2 s";
 * - `pill`: a short state, coloured by the column's `tones`;
 * - `progress`: a {@link ProgressCell} as a bar and its percentage;
 * - `ids`: an {@link IdsCell}, its count with the ids listed on expanding it.
 */
export type SectionCellFormat = 'text' | 'code' | 'number' | 'time' | 'duration' | 'pill' | 'progress' | 'ids';

export interface SectionColumn {
  key: string;
  label: string;
  format?: SectionCellFormat;
  /** For `pill`: the tone of each value (others are muted). */
  tones?: Record<string, SectionTone>;
  /** Long text (an error message): wrapped instead of widening the table. */
  wrap?: boolean;
}

export interface ProgressCell {
  /** 0..1 */
  fraction: number;
  message?: string;
}

export interface IdsCell {
  /** The first ids (the section caps how many it sends). */
  ids: string[];
  /** How many there are in all. */
  total: number;
  /** What they are, for the summary line ("drifted"). */
  noun?: string;
}

export type SectionCell = string | number | boolean | null | ProgressCell | IdsCell;

export interface SectionTable {
  /** Stable within the section (the page keeps one element per table and per row). */
  id: string;
  title: string;
  /** A short note beside the title (what the rows are, how they are ordered). */
  note?: string;
  columns: SectionColumn[];
  /** The column whose value tells rows apart (default the first column). */
  rowKey?: string;
  rows: Array<Record<string, SectionCell>>;
  /** Rows there are but not listed (the section's cap). */
  omitted?: number;
  /** Shown when there are no rows. */
  empty?: string;
}

/** A section's data as `data()` returns it. Sections may still return plain rows (an array), drawn as one table. */
export interface SectionContent {
  tiles?: SectionTile[];
  tables: SectionTable[];
  /** A line under the tiles: where the data comes from (never a secret: no password, no token). */
  source?: string;
}

/** What /api/v1/x/<id> answers: the content, when it was read, and the error of the latest read if it failed. */
export interface SectionAnswer extends SectionContent {
  title: string;
  /** When the content was read (ms since the epoch); null before any read worked. */
  readAtMs: number | null;
  /** The latest read failed: the content (if any) is from `readAtMs`, the last read that worked. */
  error?: { code: string; message: string; sinceMs: number };
}

export function isSectionContent(value: unknown): value is SectionContent {
  return typeof value === 'object' && value !== null && Array.isArray((value as SectionContent).tables);
}

/** A section the pages show beside the built-in ones (jobs, models, ...), read only while someone has it open. */
export interface DashboardExtension {
  /** URL-safe id: the section lives at /x/<id> and its data at /api/v1/x/<id>. */
  id: string;
  title: string;
  /**
   * The section's data: a {@link SectionContent}, or rows (an array of flat records, drawn as one table). Called
   * at most once per `sections.maxAgeMs` however many viewers ask, and only while someone asks; a throw (or a
   * read past `sections.timeoutMs`) shows as an error line, with the last content that was read. The message of
   * what it throws is shown and logged: it must hold no secret.
   */
  data(): Promise<unknown> | unknown;
  /** Releases what the section holds (connections), when the dashboard closes. */
  close?(): Promise<void> | void;
}
