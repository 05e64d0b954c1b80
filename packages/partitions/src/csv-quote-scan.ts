// The tokenizer's quote grammar (csv-tokenizer.ts) run by jumping from quote to quote instead of reading fields:
// whether a byte of a file is inside a quoted field, where the next row starts, and whether a quoted field ever
// closes. Outside a quoted field a quote opens one only at a field's start (after a delimiter or line ending);
// inside, a quote is closing or the first of a doubled pair, told apart by the byte after it.
import { bomLength, CR, LF, QUOTE, indexOfByte } from './csv-tokenizer.js';
import { FileWindow } from './file-window.js';

/**
 * Where the scan stands before its next byte: at a field's start, inside an unquoted field, inside a quoted
 * field, or just after a quote inside a quoted field (closing, or the first of a doubled pair).
 */
export type ScanState = 'field-start' | 'unquoted' | 'quoted' | 'quote-in-quoted';

/** advance() stopped at the end of the bytes it was given; more follow (call again from `resumeAt`). */
export const NEEDS_MORE = -1;
/** advance() reached the end of the file without a row start; `state` says whether inside a quoted field. */
export const AT_EOF = -2;
/** advance() met text after a closing quote, at file offset `textAfterQuoteAt`. */
export const BROKEN = -3;

export class QuoteScan {
  /** File offset of the opening quote of the quoted field the scan is in. */
  openedAt = -1;
  textAfterQuoteAt = -1;
  /** Where to continue after NEEDS_MORE. */
  resumeAt = 0;

  constructor(
    private readonly delimiter: number,
    public state: ScanState,
  ) {}

  /**
   * Runs the grammar over buf[from, limit), buf[0] being file offset `base`. With `findRowStart` it stops at the
   * first row start (the position after a line ending outside quotes) and returns it; otherwise it only tracks
   * the state. Returns NEEDS_MORE, AT_EOF (`atEof`: no bytes follow `limit`) or BROKEN otherwise.
   */
  advance(buf: Uint8Array, from: number, limit: number, base: number, atEof: boolean, findRowStart: boolean): number {
    const delimiter = this.delimiter;
    let i = from;
    for (;;) {
      if (this.state === 'quote-in-quoted') {
        if (i >= limit) return this.end(limit, atEof); // a closing quote at the end of the file
        const c = buf[i] as number;
        if (c === QUOTE) {
          this.state = 'quoted';
          i++;
          continue;
        }
        if (c !== delimiter && c !== LF && c !== CR) {
          this.textAfterQuoteAt = base + i;
          return BROKEN;
        }
        this.state = 'unquoted'; // byte i, a delimiter or line ending, is read outside the field
      } else if (this.state === 'quoted') {
        const q = indexOfByte(buf, QUOTE, i, limit);
        if (q === -1) return this.end(limit, atEof);
        this.state = 'quote-in-quoted';
        i = q + 1;
        continue;
      }
      const q = indexOfByte(buf, QUOTE, i, limit);
      const stop = q === -1 ? limit : q;
      if (findRowStart) {
        const ending = lineEndingIn(buf, i, stop);
        if (ending !== -1) {
          if (buf[ending] === LF) return ending + 1;
          if (ending + 1 < limit) return buf[ending + 1] === LF ? ending + 2 : ending + 1;
          if (atEof) return limit;
          this.state = 'unquoted';
          this.resumeAt = ending; // read the CR again once the byte after it is here
          return NEEDS_MORE;
        }
      }
      if (q === -1) {
        if (limit > i) this.state = separates(buf[limit - 1] as number, delimiter) ? 'field-start' : 'unquoted';
        return this.end(limit, atEof);
      }
      const atFieldStart = q === i ? this.state === 'field-start' : separates(buf[q - 1] as number, delimiter);
      if (atFieldStart) {
        this.state = 'quoted';
        this.openedAt = base + q;
      } else {
        this.state = 'unquoted'; // a quote inside an unquoted field is a character
      }
      i = q + 1;
    }
  }

  private end(limit: number, atEof: boolean): number {
    if (atEof) {
      if (this.state === 'quote-in-quoted') this.state = 'unquoted';
      return AT_EOF;
    }
    this.resumeAt = limit;
    return NEEDS_MORE;
  }
}

function separates(c: number, delimiter: number): boolean {
  return c === delimiter || c === LF || c === CR;
}

/** The first LF or CR in [from, to), or -1. A byte loop: `to` is the next quote, usually near. */
function lineEndingIn(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c === LF || c === CR) return i;
  }
  return -1;
}

/** What a scan of a file found: a row start (file offset), the end of the file, or broken quoting. */
export type ScanResult =
  | { kind: 'row'; offset: number }
  | { kind: 'eof'; scan: QuoteScan; size: number }
  | { kind: 'broken'; at: number };

/**
 * Streams `path` from `from` in state `scan.state` (from 0: after the byte-order mark, if any): tracks the state
 * up to `rowsFrom` (a file offset), then returns the first row start at or after it. Reads through a bounded
 * window, however long the fields.
 */
export async function scanFile(path: string, from: number, rowsFrom: number, scan: QuoteScan): Promise<ScanResult> {
  const window = await FileWindow.open(path, from);
  try {
    let i = from === 0 ? bomLength(window.buf, window.length) : 0;
    for (;;) {
      const findRowStart = window.base + i >= rowsFrom;
      const limit = findRowStart ? window.length : Math.min(window.length, rowsFrom - window.base);
      const atEof = window.atEof && limit === window.length;
      const found = scan.advance(window.buf, i, limit, window.base, atEof, findRowStart);
      if (found >= 0) return { kind: 'row', offset: window.base + found };
      if (found === AT_EOF) return { kind: 'eof', scan, size: window.size };
      if (found === BROKEN) return { kind: 'broken', at: scan.textAfterQuoteAt };
      i = scan.resumeAt;
      if (i >= window.length) {
        if (window.atEof) return { kind: 'eof', scan, size: window.size };
        // Keeps the last byte: a CR waiting for its LF, or the quote before it, stays readable.
        const keep = Math.max(0, window.length - 1);
        i -= await window.refill(keep);
      } else if (limit < window.length) {
        continue; // reached rowsFrom inside the window
      } else {
        i -= await window.refill(i);
      }
    }
  } finally {
    await window.close();
  }
}

/** Whether the quoted field opening at file offset `quote` closes before the end of the file (streams to find out). */
export async function quotedFieldCloses(path: string, quote: number, delimiter: number): Promise<boolean> {
  const scan = new QuoteScan(delimiter, 'quoted');
  const result = await scanFile(path, quote + 1, quote + 1, scan);
  return !(result.kind === 'eof' && result.scan.state === 'quoted');
}
