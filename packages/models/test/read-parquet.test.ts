// The task's Parquet reader reads a small file whole and a big one by byte ranges: both must give the same
// columns, skip the same row groups, and report the same problems (here "big" is any file, by a threshold of 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteFile } from 'hyparquet-writer';
import { readParquet, WHOLE_FILE_BYTES } from '../src/tasks/read-parquet.js';
import type { BatchSourceSpec } from '../src/train-many/batch-wire.js';
import { fleetSource, HOUR, START, writeParquet } from './train-many-fleet.js';
import { tempDir } from './store-helpers.js';

const dir = tempDir('read-parquet');
const h = (hours: number): number => START + hours * HOUR;

test('a Parquet file read whole and read by ranges gives the same columns, row groups and problems', async () => {
  const file = join(dir, 'metrics.parquet');
  const source = fleetSource('metrics', ['cpu', 'mem', 'io'], 500, 7);
  writeParquet(file, source, 50);
  const spec: BatchSourceSpec = { source: { kind: 'file', file }, rangeKind: 'timestamp', columns: ['mem', 'gone', 'cpu'], first: 0, count: 2 };
  // Two slices needing hours 120..219 and 300..319: row groups 2..6 (rows 100..349) as one contiguous scan.
  const ranges = Float64Array.of(h(120), h(200), h(200), h(220), h(300), h(310), h(310), h(320));
  const whole = await readParquet(spec, 'ts', ranges);
  const ranged = await readParquet(spec, 'ts', ranges, 0);
  assert.ok(WHOLE_FILE_BYTES > 0);
  assert.deepEqual(ranged, whole);
  assert.ok(!('code' in whole));
  assert.equal(whole.rows, 250);
  assert.deepEqual([...whole.times.subarray(0, 2)], [h(100), h(101)]);
  assert.deepEqual([...(whole.columns[0] as Float64Array)], [...(source.values.get('mem') as Float64Array).subarray(100, 350)]);
  assert.deepEqual(whole.columns[1], { code: 'MISSING_COLUMN', message: `${file} has no column "gone"` });
});

test('a file that is not Parquet fails the same way by either path', async () => {
  const file = join(dir, 'split.csv.parquet');
  writeFileSync(file, 'ts,cpu\n1,2\n');
  const spec: BatchSourceSpec = { source: { kind: 'file', file }, rangeKind: 'number', columns: ['cpu'], first: 0, count: 1 };
  const ranges = Float64Array.of(0, 1, 1, 2);
  const whole = await readParquet(spec, 'ts', ranges);
  assert.equal((whole as { code: string }).code, 'SOURCE_FAILED');
  assert.deepEqual(await readParquet(spec, 'ts', ranges, 0), whole);
});

test('a GZIP-compressed file (not only Snappy) reads the same values', async () => {
  const file = join(dir, 'gzip.parquet');
  const times = Float64Array.from({ length: 40 }, (_, i) => h(i));
  const cpu = Float64Array.from({ length: 40 }, (_, i) => Math.sin(i));
  parquetWriteFile({
    filename: file,
    codec: 'GZIP',
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) },
    columnData: [
      { name: 'ts', data: Array.from(times, (t) => new Date(t)), type: 'TIMESTAMP', nullable: false },
      { name: 'cpu', data: Array.from(cpu), type: 'DOUBLE', nullable: false },
    ],
  });
  const spec: BatchSourceSpec = { source: { kind: 'file', file }, rangeKind: 'timestamp', columns: ['cpu'], first: 0, count: 1 };
  const read = await readParquet(spec, 'ts', Float64Array.of(h(0), h(30), h(30), h(40)));
  assert.ok(!('code' in read), JSON.stringify(read));
  assert.deepEqual([...(read.columns[0] as Float64Array)], [...cpu]);
});
