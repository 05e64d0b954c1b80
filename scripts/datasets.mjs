// Deterministic sample datasets for out-of-core tests and benchmarks: CSV files whose exact aggregates are
// known without reading them back. Row i: `id,value,category,note` with value = (i * 7919) % 1000.
import { mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

const NOTES = ['alpha', 'bravo charlie', 'delta echo foxtrot', 'golf', 'hotel india juliet kilo'];

/**
 * Writes `files` CSV files totalling at least `totalBytes` into `dir` and returns what a query filtering
 * `value >= threshold` must answer: the row count and the sum of `value` over matching rows.
 */
export function writeCsvDataset(dir, { totalBytes, files = 4, threshold = 500 }) {
  mkdirSync(dir, { recursive: true });
  const perFile = Math.ceil(totalBytes / files);
  let id = 0;
  let rows = 0;
  let bytes = 0;
  let matchingRows = 0;
  let matchingSum = 0;
  const paths = [];
  for (let f = 0; f < files; f++) {
    const path = join(dir, `part-${String(f).padStart(3, '0')}.csv`);
    paths.push(path);
    const fd = openSync(path, 'w');
    let written = 0;
    let chunk = 'id,value,category,note\n';
    while (written + chunk.length < perFile) {
      const lines = [];
      for (let n = 0; n < 4096; n++, id++) {
        const value = (id * 7919) % 1000;
        if (value >= threshold) {
          matchingRows++;
          matchingSum += value;
        }
        lines.push(`${id},${value},c${id % 10},${NOTES[id % NOTES.length]}`);
      }
      rows += lines.length;
      chunk += lines.join('\n') + '\n';
      writeSync(fd, chunk);
      written += chunk.length;
      chunk = '';
    }
    closeSync(fd);
    bytes += written;
  }
  return { paths, rows, bytes, threshold, matchingRows, matchingSum };
}
