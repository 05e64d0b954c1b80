// The RFC 4180 row tokenizer: finds one row's field boundaries in a byte buffer without creating strings.
// Quoted fields may hold delimiters, newlines and doubled quotes; CRLF and LF both end rows. Callers convert the
// fields straight from the bytes (csv-columns.ts). Rows without quotes or CRs skip it (csv-read.ts's one pass).
export const QUOTE = 0x22;
export const LF = 0x0a;
export const CR = 0x0d;

/** A field that was quoted and holds doubled quotes, so its bytes must be unescaped. */
export const FIELD_ESCAPED = 1;
/** A field that was quoted (an empty quoted field is an empty string, not a null). */
export const FIELD_QUOTED = 2;

export class RowTokenizer {
  /** Field i of the current row is bytes [starts[i], ends[i]) (quotes excluded) with flags[i]. */
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  flags = new Uint8Array(64);
  count = 0;
  /** The row breaks RFC 4180 quoting: a quote inside an unquoted field, text after a closing quote, or no closing quote. */
  strayQuote = false;

  constructor(private readonly delimiter: number) {}

  /**
   * Tokenizes the row starting at `pos`. Returns the position after its line ending, or -1 when the row is not
   * complete within `limit` and more bytes may follow (`atEof` false). At EOF the last row may lack a newline.
   * Call only with pos < limit.
   */
  next(buf: Uint8Array, pos: number, limit: number, atEof: boolean): number {
    const delimiter = this.delimiter;
    this.count = 0;
    this.strayQuote = false;
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
          if (q + 1 >= limit && !atEof) return -1; // cannot tell a closing quote from a doubled one yet
          close = q;
          break;
        }
        if (close === -1) {
          if (!atEof) return -1;
          this.strayQuote = true; // unterminated quote: the rest of the file is this field
          this.push(i + 1, limit, flags);
          return limit;
        }
        this.push(i + 1, close, flags);
        i = close + 1;
        if (i >= limit) {
          if (!atEof) return -1;
          return limit;
        }
        let c = buf[i];
        if (c !== delimiter && c !== LF && !(c === CR && (i + 1 >= limit || buf[i + 1] === LF))) {
          // Text after a closing quote ("ab"c,...): keep the quoted part, ignore up to the field's end.
          this.strayQuote = true;
          while (i < limit && (c = buf[i]) !== delimiter && c !== LF) i++;
          if (i >= limit) return atEof ? limit : -1;
        }
        if (c === delimiter) {
          i++;
          continue;
        }
        if (c === CR) {
          if (i + 1 >= limit) return atEof ? limit : -1;
          return i + 2;
        }
        return i + 1; // LF
      }
      let j = i;
      let c = 0;
      while (j < limit) {
        c = buf[j] as number;
        if (c === delimiter || c === LF) break;
        if (c === QUOTE) this.strayQuote = true;
        j++;
      }
      if (j >= limit) {
        if (!atEof) return -1;
        this.push(i, j > i && buf[j - 1] === CR ? j - 1 : j, 0);
        return limit;
      }
      if (c === delimiter) {
        this.push(i, j, 0);
        i = j + 1;
        continue;
      }
      this.push(i, j > i && buf[j - 1] === CR ? j - 1 : j, 0);
      return j + 1;
    }
  }

  /** A line with nothing on it (pandas' skip_blank_lines): not a row, not a bad line. */
  isBlank(): boolean {
    return this.count === 1 && this.starts[0] === this.ends[0] && this.flags[0] === 0;
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

export function indexOfByte(buf: Uint8Array, byte: number, from: number, limit: number): number {
  const found = buf.indexOf(byte, from);
  return found === -1 || found >= limit ? -1 : found;
}

/** The field's bytes as a string, with doubled quotes undone. */
export function fieldText(buf: Uint8Array, start: number, end: number, flags: number): string {
  const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
  return flags & FIELD_ESCAPED ? text.replaceAll('""', '"') : text;
}
