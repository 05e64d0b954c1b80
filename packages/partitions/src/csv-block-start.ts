// Where a block's first row starts. A block owns the rows that start in [start, end): its first row starts just
// after the first line ending at or after byte start-1 that is outside quotes. Whether byte start-1 is inside a
// quoted field depends on every byte before it. The block follows each state the byte before it allows to a row
// start; when the states disagree it looks back a little and follows each state allowed there through start-1
// (the grammar resynchronises within a quoted field or two: a wrong state breaks quoting, or meets the right one
// at a row start), widening the look back until they agree, and at worst scans from the file's start.
// The one assumption: a quoted field is shorter than GUESS_BYTES, so a state still inside one after that is wrong.
import { AT_EOF, BROKEN, QuoteScan, scanFile, type ScanState } from './csv-quote-scan.js';
import { quoteError } from './csv-errors.js';
import { CR, LF, QUOTE } from './csv-tokenizer.js';
import { FileWindow } from './file-window.js';

/** Longest quoted field the guesses allow for; a state inside one for longer is taken to be wrong. */
export const GUESS_BYTES = 4 << 20;
/** First look back when the states at start-1 disagree; it grows eightfold, to GUESS_BYTES at most. */
const LOOK_BACK_BYTES = 256;
const BOM_BYTES = 3;

export interface BlockStart {
  /** File offset of the block's first row; the file's size when no row starts in or after the block. */
  offset: number;
  /** Found by scanning from the file's start, not by agreement of states (which also relies on GUESS_BYTES). */
  exact: boolean;
}

type Outcome = number | 'unclosed' | 'refuted';

/**
 * The first row of the block starting at `start` (> 0), using `window`, which holds the file from byte start-2
 * on (or from byte 0). `bom` is the length of the byte-order mark `window` saw at byte 0, if it holds byte 0.
 */
export async function findBlockStart(window: FileWindow, path: string, start: number, delimiter: number, bom: number): Promise<BlockStart> {
  const s = start - 1;
  // At the file's first byte, or inside the byte-order mark, a field starts: nothing to guess.
  if (s <= bom) return exactBlockStart(path, start, delimiter);
  // States are followed one at a time: they share (and may grow) the window.
  const outcomes = new Map<ScanState, Outcome>();
  const outcomesFrom = async (states: Array<ScanState | 'broken'>): Promise<Outcome[]> => {
    const found: Outcome[] = [];
    for (const state of states) {
      if (state === 'broken') {
        found.push('refuted');
        continue;
      }
      let outcome = outcomes.get(state);
      if (outcome === undefined) outcomes.set(state, (outcome = await rowStartAssuming(window, s - window.base, state, delimiter)));
      found.push(outcome);
    }
    return found;
  };
  let agreed = agreement(await outcomesFrom(statesAfter(window.buf[s - 1 - window.base] as number, delimiter)));
  // A look back that would reach the byte-order mark is a scan from the file's start (which costs no more).
  for (let back = LOOK_BACK_BYTES; agreed === undefined && s - back > BOM_BYTES; back = Math.min(back * 8, GUESS_BYTES)) {
    agreed = agreement(await outcomesFrom(await statesAt(path, s - back, s, delimiter)));
    if (back === GUESS_BYTES) break;
  }
  return typeof agreed === 'number' ? { offset: agreed, exact: false } : exactBlockStart(path, start, delimiter);
}

/**
 * The row start all outcomes not refuted agree on; 'unknown' when they agree on none (all refuted: the quoting
 * is broken around here) or on a quote never closed (the exact scan words that error); undefined when they differ.
 */
function agreement(outcomes: Outcome[]): number | 'unknown' | undefined {
  const left = new Set(outcomes.filter((outcome) => outcome !== 'refuted'));
  if (left.size > 1) return undefined;
  const [only] = left;
  return typeof only === 'number' ? only : 'unknown';
}

/** The block's first row from a scan of the file's start; throws the file's quoting error when it meets one. */
export async function exactBlockStart(path: string, start: number, delimiter: number): Promise<BlockStart> {
  const scan = new QuoteScan(delimiter, 'field-start');
  const found = await scanFile(path, 0, start - 1, scan);
  if (found.kind === 'row') return { offset: found.offset, exact: true };
  if (found.kind === 'broken') throw await quoteError(path, 'text-after-quote', found.at);
  if (found.scan.state === 'quoted') throw await quoteError(path, 'unclosed', found.scan.openedAt);
  return { offset: found.size, exact: true };
}

/**
 * The states the reader can be in just after byte `previous`. After a delimiter or line ending a field starts
 * (or a quoted field goes on); after a quote the reader is in an unquoted field (the quote was a character),
 * in a quoted field (it opened one, or ended a doubled pair) or just after a quote inside one; after any other
 * byte it is in an unquoted or a quoted field.
 */
function statesAfter(previous: number, delimiter: number): ScanState[] {
  if (previous === delimiter || previous === LF || previous === CR) return ['quoted', 'field-start'];
  if (previous === QUOTE) return ['quoted', 'unquoted', 'quote-in-quoted'];
  return ['quoted', 'unquoted'];
}

/** Each state allowed at byte `from` (by the byte before it), followed to byte `to`: its state there, or 'broken'. */
async function statesAt(path: string, from: number, to: number, delimiter: number): Promise<Array<ScanState | 'broken'>> {
  const window = await FileWindow.open(path, from - 1, to - from + 1);
  try {
    return statesAfter(window.buf[0] as number, delimiter).map((state) => {
      const scan = new QuoteScan(delimiter, state);
      return scan.advance(window.buf, 1, to - window.base, window.base, false, false) === BROKEN ? 'broken' : scan.state;
    });
  } finally {
    await window.close();
  }
}

/**
 * The file offset of the first row start from window position `from` on, were the reader in `state` before it:
 * 'unclosed' when that state runs into the end of the file inside a quoted field, 'refuted' when it breaks the
 * quoting or finds no row start within GUESS_BYTES.
 */
async function rowStartAssuming(window: FileWindow, from: number, state: ScanState, delimiter: number): Promise<Outcome> {
  // Inside a quoted field no row starts before a quote: without one in reach the window need not grow.
  if (state === 'quoted' && (await window.indexOf(QUOTE, from, from + GUESS_BYTES)) === -1) {
    return window.size - window.base - from <= GUESS_BYTES ? 'unclosed' : 'refuted';
  }
  const scan = new QuoteScan(delimiter, state);
  let i = from;
  for (;;) {
    const found = scan.advance(window.buf, i, window.length, window.base, window.atEof, true);
    if (found >= 0) return window.base + found;
    if (found === AT_EOF) return scan.state === 'quoted' ? 'unclosed' : window.size;
    if (found === BROKEN || window.length - from >= GUESS_BYTES) return 'refuted';
    i = scan.resumeAt;
    await window.refill(0); // keeps everything: the window grows until the row start is found
  }
}
