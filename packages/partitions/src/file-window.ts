// A bounded, sliding read buffer over a region of a file: the CSV reader streams a block through it instead of
// loading the block, and it grows only when a single row is longer than the buffer.
import { open, type FileHandle } from 'node:fs/promises';
import { CR, LF } from './csv-tokenizer.js';

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

  /** Makes file offset `offset` buf[0], keeping the bytes held after it and reading from there when it lies outside them. */
  async moveTo(offset: number): Promise<void> {
    const keep = offset - this.base;
    if (keep >= 0 && keep <= this.length) {
      await this.refill(keep);
      return;
    }
    this.base = Math.min(offset, this.size);
    this.length = 0;
    await this.refill(0);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/**
 * The number of line breaks in [0, end) of a file: LFs, and CRs not followed by an LF (a CRLF is one break), so the
 * line of byte `end` is this plus one. Streams the file; for error messages only.
 */
export async function countLinesBefore(path: string, end: number): Promise<number> {
  const window = await FileWindow.open(path, 0);
  let breaks = 0;
  try {
    for (;;) {
      const { buf } = window;
      const limit = Math.min(window.length, end - window.base);
      for (let i = buf.indexOf(LF); i !== -1 && i < limit; i = buf.indexOf(LF, i + 1)) breaks++;
      for (let i = buf.indexOf(CR); i !== -1 && i < limit; i = buf.indexOf(CR, i + 1)) {
        // A CR at the window's last byte is kept for the next read, which decides whether an LF follows it.
        if (i + 1 === window.length && !window.atEof && window.base + i + 1 < end) break;
        if (i + 1 >= window.length || window.base + i + 1 >= end || buf[i + 1] !== LF) breaks++;
      }
      if (window.base + window.length >= end || window.atEof) break;
      const keep = buf[window.length - 1] === CR ? window.length - 1 : window.length;
      await window.refill(keep);
    }
  } finally {
    await window.close();
  }
  return breaks;
}
