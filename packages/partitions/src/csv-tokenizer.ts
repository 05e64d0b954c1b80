// The row tokenizer: finds one row's field boundaries in a byte buffer without creating strings. The grammar is
// RFC 4180 read as Python's csv module reads it with strict=True: a field that starts with a quote is quoted and may
// hold delimiters, line endings and doubled quotes; a quote anywhere else in a field is a plain character; rows
// end in LF, CRLF or a lone CR. Text after a closing quote and a quote never closed are errors. csv-quote-scan.ts
// runs the same grammar quote to quote; the differential test holds both to csv-parse.
export const QUOTE = 0x22;
export const LF = 0x0a;
export const CR = 0x0d;

/** A field that was quoted and holds doubled quotes, so its bytes must be unescaped. */
export const FIELD_ESCAPED = 1;
/** A field that was quoted (an empty quoted field is an empty string, not a null). */
export const FIELD_QUOTED = 2;

/**
 * Why a row's quoting is broken. Either makes every later row boundary of the file uncertain, so it fails the
 * read in every onBadLines mode (csv-errors.ts words it).
 */
export type QuoteError = 'unclosed' | 'text-after-quote';

export class RowTokenizer {
  /** Field i of the current row is bytes [starts[i], ends[i]) (quotes excluded) with flags[i]. */
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  flags = new Uint8Array(64);
  count = 0;
  /** The row's quoting is broken at buffer position `errorAt`: the opening quote ('unclosed') or the byte after the closing one. */
  error: QuoteError | undefined;
  errorAt = -1;
  /** After next() returned -1 inside a quoted field: the buffer position of the field's opening quote, else -1. */
  pendingQuote = -1;

  constructor(private readonly delimiter: number) {}

  /**
   * Tokenizes the row starting at `pos`. Returns the position after its line ending, or -1 when the row is not
   * complete within `limit` and more bytes may follow (`atEof` false). At EOF the last row may lack a line
   * ending. When `error` is set on return the row is not usable. Call only with pos < limit.
   */
  next(buf: Uint8Array, pos: number, limit: number, atEof: boolean): number {
    const delimiter = this.delimiter;
    this.count = 0;
    this.error = undefined;
    this.pendingQuote = -1;
    let i = pos;
    for (;;) {
      if (i >= limit) {
        if (!atEof) return -1;
        this.push(i, i, 0); // "a,b," at EOF: the trailing empty field
        return limit;
      }
      if (buf[i] === QUOTE) {
        let flags = FIELD_QUOTED;
        let j = i + 1;
        let close = -1;
        for (;;) {
          const q = indexOfByte(buf, QUOTE, j, limit);
          if (q === -1) break;
          if (q + 1 < limit && buf[q + 1] === QUOTE) {
            flags |= FIELD_ESCAPED;
            j = q + 2;
            continue;
          }
          if (q + 1 >= limit && !atEof) break; // cannot tell a closing quote from a doubled one yet
          close = q;
          break;
        }
        if (close === -1) {
          if (!atEof) {
            this.pendingQuote = i;
            return -1;
          }
          return this.fail('unclosed', i, limit);
        }
        this.push(i + 1, close, flags);
        i = close + 1;
        if (i >= limit) return limit; // at EOF, or the loop above would have waited for the next byte
        const c = buf[i];
        if (c === delimiter) {
          i++;
          continue;
        }
        if (c === LF) return i + 1;
        if (c === CR) return afterCr(buf, i, limit, atEof);
        return this.fail('text-after-quote', i, limit);
      }
      let j = i;
      let c = 0;
      while (j < limit) {
        c = buf[j] as number;
        if (c === delimiter || c === LF || c === CR) break;
        j++;
      }
      if (j >= limit) {
        if (!atEof) return -1;
        this.push(i, j, 0);
        return limit;
      }
      this.push(i, j, 0);
      if (c === delimiter) {
        i = j + 1;
        continue;
      }
      return c === LF ? j + 1 : afterCr(buf, j, limit, atEof);
    }
  }

  /** A line with nothing on it (pandas' skip_blank_lines): not a row, not a bad line. */
  isBlank(): boolean {
    return this.count === 1 && this.starts[0] === this.ends[0] && this.flags[0] === 0;
  }

  private fail(error: QuoteError, at: number, limit: number): number {
    this.error = error;
    this.errorAt = at;
    return limit;
  }

  private push(start: number, end: number, flags: number): void {
    if (this.count === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
        const b = new make(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts, Int32Array);
      this.ends = grow(this.ends, Int32Array);
      this.flags = grow(this.flags, Uint8Array);
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.flags[this.count] = flags;
    this.count++;
  }
}

/** The position after a line ending whose CR is at `cr` (CRLF or a lone CR), or -1 when the next byte is not read yet. */
export function afterCr(buf: Uint8Array, cr: number, limit: number, atEof: boolean): number {
  if (cr + 1 < limit) return buf[cr + 1] === LF ? cr + 2 : cr + 1;
  return atEof ? limit : -1;
}

export function indexOfByte(buf: Uint8Array, byte: number, from: number, limit: number): number {
  const found = buf.indexOf(byte, from);
  return found === -1 || found >= limit ? -1 : found;
}

/** The field's bytes as a string, with doubled quotes undone. */
export function fieldText(buf: Uint8Array, start: number, end: number, flags: number): string {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
  return flags & FIELD_ESCAPED ? text.replaceAll('""', '"') : text;
}

/** Length of the UTF-8 byte-order mark at buf[0] (3), or 0; callers pass a buffer starting at the file's first byte. */
export function bomLength(buf: Uint8Array, length: number): number {
  return length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
}
