// The errors a CSV read fails with, each naming the file, the 1-based physical line and the 0-based byte offset of
// the place at fault. Lines are counted from the file's start only here, on the error path.
import { open } from 'node:fs/promises';
import type { QuoteError } from './csv-tokenizer.js';
import { PartitionError } from './errors.js';
import { countLinesBefore } from './file-window.js';

/** A row that is malformed but whose extent is certain (wrong field count, a value not of its type): `offset` is its first byte. */
export async function badRowError(path: string, offset: number, reason: string): Promise<PartitionError> {
  return new PartitionError('CSV_BAD_LINE', `${path} line ${(await countLinesBefore(path, offset)) + 1} (byte ${offset}): ${reason}`);
}

/**
 * Broken quoting, at `offset`: the opening quote of a field never closed, or the first byte after a closing quote
 * that is neither a delimiter nor a line ending. No row boundary after it can be trusted, so no mode skips it.
 */
export async function quoteError(path: string, error: QuoteError, offset: number): Promise<PartitionError> {
  const reason =
    error === 'unclosed'
      ? 'quoted field never closed (it opens here and runs to the end of the file)'
      : `text after the closing quote of a quoted field (found ${JSON.stringify(await charAt(path, offset))}); a quote inside a quoted field is written twice ("")`;
  return badRowError(path, offset, reason);
}

async function charAt(path: string, offset: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, offset);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    return String.fromCodePoint(text.codePointAt(0) ?? 0xfffd);
  } finally {
    await handle.close();
  }
}
