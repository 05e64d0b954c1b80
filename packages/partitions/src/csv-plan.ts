// Cutting CSV files into byte-range blocks at graph-build time. Planning only stats the files: a block's real row
// boundaries are found by the worker that reads it (csv-block-start.ts, by the tokenizer's own quote grammar).
import { statSync } from 'node:fs';
import { PartitionError } from './errors.js';

/** Raw byte range of one block; the block owns the rows that start in [start, end). */
export interface CsvBlock {
  path: string;
  start: number;
  end: number;
  index: number;
}

export function planCsvBlocks(paths: string[], blocksize: number): CsvBlock[] {
  if (!Number.isSafeInteger(blocksize) || blocksize < 1) {
    throw new PartitionError('CSV_BAD_OPTIONS', `blocksize must be a positive integer number of bytes, got ${String(blocksize)}`);
  }
  const blocks: CsvBlock[] = [];
  for (const path of paths) {
    const size = statSync(path).size;
    // An empty file still gets one (empty) block, so every file is visible in the plan.
    if (size === 0) blocks.push({ path, start: 0, end: 0, index: blocks.length });
    for (let start = 0; start < size; start += blocksize) {
      blocks.push({ path, start, end: Math.min(start + blocksize, size), index: blocks.length });
    }
  }
  return blocks;
}
