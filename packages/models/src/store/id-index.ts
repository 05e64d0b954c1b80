// Model id -> row, built over the id columns' utf8 bytes as they lie in the loaded files: an open-addressing
// hash table of row numbers (4 bytes a slot), with no JavaScript string per model. A Map<string, number> of
// 250,000 ids costs a string and an entry each, tens of MB and most of the load time; this costs ~2 MB.
import type { Utf8Column } from './record-view.js';
import { fnv1a, fnv1aAscii } from '../fnv1a.js';

/** Which of consecutive parts starting at `starts` (ascending, starts[0] = 0) holds `row`: a binary search. */
export function partOf(starts: ArrayLike<number>, row: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class IdIndex {
  /** Row + 1 per slot; 0 is empty. */
  readonly #slots: Int32Array;
  readonly #mask: number;
  readonly #columns: readonly Utf8Column[];
  /** First row of each column (a file's record batch). */
  readonly #starts: Int32Array;
  #scratch = Buffer.alloc(256);
  /** An id that appeared twice, found while building (undefined when ids are unique). */
  duplicate: string | undefined;

  /** Indexes every id of `columns`, rows numbered across them in order. */
  constructor(columns: readonly Utf8Column[], lengths: readonly number[]) {
    const total = lengths.reduce((sum, n) => sum + n, 0);
    let size = 16;
    while (size < total * 2) size *= 2;
    this.#slots = new Int32Array(size);
    this.#mask = size - 1;
    this.#columns = columns;
    this.#starts = new Int32Array(columns.length);
    let row = 0;
    columns.forEach((column, c) => {
      this.#starts[c] = row;
      const n = lengths[c] as number;
      for (let i = 0; i < n; i++, row++) this.#insert(column, i, row);
    });
  }

  /** The row of `id`, or undefined. */
  get(id: string): number | undefined {
    // An ASCII id (nearly every id) is hashed and compared through its char codes, with no UTF-8 encoding.
    const hash = fnv1aAscii(id);
    if (hash >= 0) {
      let slot = hash & this.#mask;
      for (;;) {
        const entry = this.#slots[slot] as number;
        if (entry === 0) return undefined;
        if (this.#cellIs(entry - 1, id)) return entry - 1;
        slot = (slot + 1) & this.#mask;
      }
    }
    const length = Buffer.byteLength(id, 'utf8');
    if (length > this.#scratch.length) this.#scratch = Buffer.alloc(length * 2);
    this.#scratch.write(id, 0, 'utf8');
    const entry = this.#slots[this.#slotOf(this.#scratch, 0, length)] as number;
    return entry === 0 ? undefined : entry - 1;
  }

  /** Whether the id at `row` is the ASCII string `id`. */
  #cellIs(row: number, id: string): boolean {
    const c = partOf(this.#starts, row);
    const column = this.#columns[c] as Utf8Column;
    const local = row - (this.#starts[c] as number);
    const start = column.start(local);
    if (column.end(local) - start !== id.length) return false;
    const bytes = column.bytes;
    for (let i = 0; i < id.length; i++) if (bytes[start + i] !== id.charCodeAt(i)) return false;
    return true;
  }

  /** Whether cell `local` of `column` (of any file) is an id of the index: bytes compared, no string made. */
  hasCell(column: Utf8Column, local: number): boolean {
    return this.#slots[this.#slotOf(column.bytes, column.start(local), column.end(local))] !== 0;
  }

  #insert(column: Utf8Column, local: number, row: number): void {
    const slot = this.#slotOf(column.bytes, column.start(local), column.end(local));
    if (this.#slots[slot] === 0) this.#slots[slot] = row + 1;
    else this.duplicate ??= column.get(local);
  }

  /** The slot holding the id whose bytes are bytes[start, end), or the empty slot where it would go. */
  #slotOf(bytes: Uint8Array, start: number, end: number): number {
    let slot = fnv1a(bytes, start, end) & this.#mask;
    for (;;) {
      const entry = this.#slots[slot] as number;
      if (entry === 0) return slot;
      const [other, local] = this.#locate(entry - 1);
      const otherStart = other.start(local);
      const otherEnd = other.end(local);
      if (otherEnd - otherStart === end - start && other.bytes.compare(bytes, start, end, otherStart, otherEnd) === 0) return slot;
      slot = (slot + 1) & this.#mask;
    }
  }

  #locate(row: number): [Utf8Column, number] {
    const c = partOf(this.#starts, row);
    return [this.#columns[c] as Utf8Column, row - (this.#starts[c] as number)];
  }

  /** Bytes the index itself holds. */
  get byteLength(): number {
    return this.#slots.byteLength;
  }
}
