// The cells of an Arrow utf8 column as strings, for the split's row checks. A split repeats most of its cells
// (every slice of a file names the file, often every row has the same bounds), and on 250,000 rows a string
// decoded per cell, then hashed again by each map lookup, was most of readSplit. Here a cell whose bytes equal
// the previous cell's, or one of the column's first distinct values, is the same string object as before:
// decoded once, its hash computed once.
import { DataType, type Vector } from 'apache-arrow';
import { fnv1a } from '../fnv1a.js';
import { Utf8Column } from '../store/record-view.js';

/** Distinct values remembered per column; a column of unique values (ids) stops adding after this many. */
const REMEMBERED = 1024;

/** One chunk of the vector and the index of its first cell in the vector. */
interface Chunk {
  first: number;
  cells: Utf8Column;
}

interface Known {
  cells: Utf8Column;
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
    return new TextCells(
      vector.data.map((data): Chunk => {
        const chunk = { first, cells: new Utf8Column(data) };
        first += data.length;
        return chunk;
      }),
    );
  }

  /** Cell i, or null. Fastest when cells are read in ascending order. */
  get(i: number): string | null {
    const { first, cells } = this.#chunkOf(i);
    const local = i - first;
    if (cells.isNull(local)) return null;
    const start = cells.start(local);
    const end = cells.end(local);
    const last = this.#last;
    if (last !== undefined && equalBytes(last, cells, start, end)) return last.text;
    const hash = fnv1a(cells.bytes, start, end);
    const known = this.#known.get(hash);
    if (known !== undefined && equalBytes(known, cells, start, end)) {
      this.#last = known;
      return known.text;
    }
    const made: Known = { cells, start, end, text: cells.bytes.toString('utf8', start, end) };
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

function equalBytes(known: Known, cells: Utf8Column, start: number, end: number): boolean {
  if (known.end - known.start !== end - start) return false;
  const a = known.cells.bytes;
  const b = cells.bytes;
  for (let i = 0, n = end - start; i < n; i++) if (a[known.start + i] !== b[start + i]) return false;
  return true;
}
