// Spill throughput of the worker's spill files: 64 MiB values written (with header and checksum) and read back
// (checksum verified), with and without compression, best of 3.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { readSpillFile, writeSpillFile } from '@loom/worker';

export interface SpillThroughput {
  writeMBps: number;
  readMBps: number;
}

export async function measureSpill(directory: string, valueBytes = 64 * 2 ** 20, values = 8): Promise<SpillThroughput> {
  mkdirSync(directory, { recursive: true });
  // Random bytes, so neither the disk cache's nor a compressor's tricks flatter the figure.
  const bytes = randomFillSync(Buffer.allocUnsafe(valueBytes));
  let writeMBps = 0;
  let readMBps = 0;
  for (let repeat = 0; repeat < 3; repeat++) {
    const paths = Array.from({ length: values }, (_, i) => join(directory, `bench-${repeat}-${i}.spill`));
    let started = performance.now();
    for (const path of paths) writeSpillFile(path, { codec: 'v8', bytes }, 'none');
    writeMBps = Math.max(writeMBps, (valueBytes * values) / 1e6 / ((performance.now() - started) / 1000));
    started = performance.now();
    for (const path of paths) {
      const value = await readSpillFile(path);
      if (value.bytes.byteLength !== valueBytes) throw new Error('spill read-back returned the wrong size');
    }
    readMBps = Math.max(readMBps, (valueBytes * values) / 1e6 / ((performance.now() - started) / 1000));
  }
  return { writeMBps, readMBps };
}
