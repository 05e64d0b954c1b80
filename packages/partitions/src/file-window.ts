// A bounded, sliding read buffer over a region of a file: the CSV reader streams a block through it instead of
// loading the block, and it grows only when a single row is longer than the buffer.
import { open, type FileHandle } from 'node:fs/promises';
import { LF, QUOTE } from './csv-tokenizer.js';

export const WINDOW_BYTES = 1 << 20;

export class FileWindow {
  /** File offset of buf[0]. */
  base: number;
  /** Bytes of buf that hold file data. */
  length = 0;
  buf: Buffer;

  private constructor(private readonly handle: FileHandle, readonly size: number, base: number, bytes: number) {
    this.base = base;
    this.buf = Buffer.allocUnsafe(bytes);
  }

  static async open(path: string, from: number, bytes = WINDOW_BYTES): Promise<FileWindow> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const window = new FileWindow(handle, size, Math.min(from, size), bytes);
      await window.refill(0);
      return window;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  get atEof(): boolean {
    return this.base + this.length >= this.size;
  }

  /**
   * Drops the bytes before `keep`, then reads more after the kept ones (growing the buffer when they fill it).
   * Returns how far positions moved: callers subtract it from their buffer positions.
   */
  async refill(keep: number): Promise<number> {
    if (keep > 0) {
      this.buf.copyWithin(0, keep, this.length);
      this.base += keep;
      this.length -= keep;
    }
    if (this.length === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    while (this.length < this.buf.length && !this.atEof) {
      const { bytesRead } = await this.handle.read(this.buf, this.length, this.buf.length - this.length, this.base + this.length);
      if (bytesRead === 0) break;
      this.length += bytesRead;
    }
    return keep;
  }

  /**
   * Buffer position of the first `byte` in [from, limit) (positions relative to buf[0], reaching past the
   * bytes held), or -1. Bytes not held yet are read into a scratch buffer: the window keeps its size.
   */
  async indexOf(byte: number, from: number, limit: number): Promise<number> {
    const end = Math.min(limit, this.size - this.base);
    const held = Math.min(this.length, end);
    if (from < held) {
      const found = this.buf.indexOf(byte, from);
      if (found !== -1 && found < held) return found;
    }
    let at = Math.max(from, held);
    if (at >= end) return -1;
    const scratch = Buffer.allocUnsafe(Math.min(WINDOW_BYTES, end - at));
    while (at < end) {
      const { bytesRead } = await this.handle.read(scratch, 0, Math.min(scratch.length, end - at), this.base + at);
      if (bytesRead === 0) break;
      const found = scratch.indexOf(byte);
      if (found !== -1 && found < bytesRead) return at + found;
      at += bytesRead;
    }
    return -1;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Counts newline bytes and quote bytes in [0, end) of a file, streaming; for error messages and exact resyncs. */
export async function countBytesBefore(path: string, end: number): Promise<{ newlines: number; quotes: number }> {
  const window = await FileWindow.open(path, 0);
  let newlines = 0;
  let quotes = 0;
  try {
    for (;;) {
      const limit = Math.min(window.length, end - window.base);
      newlines += countByte(window.buf, LF, limit);
      quotes += countByte(window.buf, QUOTE, limit);
      if (window.base + window.length >= end || window.atEof) break;
      await window.refill(window.length);
    }
  } finally {
    await window.close();
  }
  return { newlines, quotes };
}

function countByte(buf: Buffer, byte: number, limit: number): number {
  let count = 0;
  for (let i = buf.indexOf(byte); i !== -1 && i < limit; i = buf.indexOf(byte, i + 1)) count++;
  return count;
}
