// The cells of an Arrow utf8 column as strings, for the split's row checks. A split repeats most of its cells
// (every slice of a file names the file, often every row has the same bounds), and on 250,000 rows a string
// decoded per cell, then hashed again by each map lookup, was most of readSplit. Here a cell whose bytes equal
// the previous cell's, or one of the column's first distinct values, is the same string object as before:
// decoded once, its hash computed once.
import { DataType, type Data, type Vector } from 'apache-arrow';
import { fnv1a } from '../fnv1a.js';

/** Distinct values remembered per column; a column of unique values (ids) stops adding after this many. */
const REMEMBERED = 1024;

interface Chunk {
  first: number;
  offsets: Int32Array;
  bytes: Buffer;
  validity: Uint8Array | undefined;
  offset: number;
}

interface Known {
  chunk: Chunk;
  start: number;
  end: number;
  text: string;
}

export class TextCells {
  readonly #chunks: Chunk[];
  #chunk = 0;
  #last: Known | undefined;
  readonly #known = new Map<number, Known>();

  private constructor(chunks: Chunk[]) {
    this.#chunks = chunks;
  }

  /** Cells of `vector` when it is utf8; undefined for other types (the caller reads those with `get`). */
  static of(vector: Vector | undefined): TextCells | undefined {
    if (vector === undefined || !DataType.isUtf8(vector.type)) return undefined;
    let first = 0;
    const chunks = vector.data.map((data: Data): Chunk => {
      const values = data.values as Uint8Array;
      const chunk = {
        first,
        offsets: data.valueOffsets as Int32Array,
        bytes: Buffer.from(values.buffer, values.byteOffset, values.byteLength),
        validity: data.nullCount > 0 ? (data.nullBitmap as Uint8Array) : undefined,
        offset: data.offset,
      };
      first += data.length;
      return chunk;
    });
    return new TextCells(chunks);
  }

  /** Cell i, or null. Fastest when cells are read in ascending order. */
  get(i: number): string | null {
    const chunk = this.#chunkOf(i);
    const at = chunk.offset + i - chunk.first;
    if (chunk.validity !== undefined && ((chunk.validity[at >> 3] as number) & (1 << (at & 7))) === 0) return null;
    const start = chunk.offsets[at] as number;
    const end = chunk.offsets[at + 1] as number;
    const last = this.#last;
    if (last !== undefined && equalBytes(last, chunk, start, end)) return last.text;
    const hash = fnv1a(chunk.bytes, start, end);
    const known = this.#known.get(hash);
    if (known !== undefined && equalBytes(known, chunk, start, end)) {
      this.#last = known;
      return known.text;
    }
    const made: Known = { chunk, start, end, text: chunk.bytes.toString('utf8', start, end) };
    if (known === undefined && this.#known.size < REMEMBERED) this.#known.set(hash, made);
    this.#last = made;
    return made.text;
  }

  #chunkOf(i: number): Chunk {
    let c = this.#chunk;
    const chunks = this.#chunks;
    if (i < (chunks[c] as Chunk).first) c = 0;
    while (c + 1 < chunks.length && i >= (chunks[c + 1] as Chunk).first) c++;
    this.#chunk = c;
    return chunks[c] as Chunk;
  }
}

function equalBytes(known: Known, chunk: Chunk, start: number, end: number): boolean {
  if (known.end - known.start !== end - start) return false;
  const a = known.chunk.bytes;
  const b = chunk.bytes;
  for (let i = 0, n = end - start; i < n; i++) if (a[known.start + i] !== b[start + i]) return false;
  return true;
}

