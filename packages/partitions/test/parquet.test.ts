// Parquet pieces: a file written with three row groups plans to three pieces, each read back exactly with the
// right Arrow types, and a column subset reads only those columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { parquetWriteFile } from 'hyparquet-writer';
import { concatTables, planParquet, readParquetPiece } from '../src/index.js';
import { rowsOf, tempDir } from './helpers.js';

const dir = tempDir('parquet');
const n = 2500;
const ids = Array.from({ length: n }, (_, i) => i);
const names = ids.map((i) => (i % 11 === 0 ? null : `name ${i} ✓`));
const scores = ids.map((i) => i * 0.25);
const flags = ids.map((i) => i % 2 === 0);
const bigs = ids.map((i) => BigInt(i) * 10_000_000_000n);
const times = ids.map((i) => new Date(Date.UTC(2024, 0, 1) + i * 60_000));
const path = join(dir, 'multi.parquet');
parquetWriteFile({
  filename: path,
  rowGroupSize: 1000,
  columnData: [
    { name: 'id', data: ids, type: 'INT32', nullable: false },
    { name: 'name', data: names, type: 'STRING' },
    { name: 'score', data: scores, type: 'DOUBLE' },
    { name: 'flag', data: flags, type: 'BOOLEAN' },
    { name: 'big', data: bigs, type: 'INT64' },
    { name: 'at', data: times, type: 'TIMESTAMP' },
  ],
});

test('one piece per row group, values and types exact', async () => {
  const pieces = planParquet([path]);
  assert.deepEqual(pieces, [{ path, rowGroup: 0, rows: 1000 }, { path, rowGroup: 1, rows: 1000 }, { path, rowGroup: 2, rows: 500 }]);
  const tables = await Promise.all(pieces.map((piece) => readParquetPiece(piece)));
  assert.deepEqual(tables.map((t) => t.numRows), [1000, 1000, 500]);
  const table = concatTables(tables);
  assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`),
    ['id:Int32:false', 'name:Utf8:true', 'score:Float64:true', 'flag:Bool:true', 'big:Int64:true', 'at:Timestamp<MILLISECOND>:true']);
  assert.deepEqual(rowsOf(table), ids.map((i) => [i, names[i], scores[i], flags[i], bigs[i], times[i]?.getTime()]));
});

test('a column subset, and unknown columns named with the real ones', async () => {
  const [, second] = planParquet([path]);
  assert.ok(second);
  const table = await readParquetPiece(second, ['score', 'id']);
  assert.deepEqual(table.schema.fields.map((f) => f.name), ['score', 'id']);
  assert.deepEqual(rowsOf(table)[0], [250, 1000]);
  await assert.rejects(readParquetPiece(second, ['nope']), /has no column "nope"; its columns are: id, name, score, flag, big, at/);
  assert.throws(() => planParquet([join(dir, '..')]), /EISDIR|not a Parquet file/);
});

// pandas, pyarrow, Spark and DuckDB write Snappy by default, but ZSTD, GZIP and Brotli files are common; hyparquet
// reads only Snappy without hyparquet-compressors.
for (const [codec, compress] of [['GZIP', gzipSync], ['BROTLI', brotliCompressSync]] as const) {
  test(`a ${codec}-compressed file reads the same values`, async () => {
    const file = join(dir, `${codec.toLowerCase()}.parquet`);
    parquetWriteFile({
      filename: file,
      codec,
      compressors: { [codec]: (input: Uint8Array) => new Uint8Array(compress(input)) },
      columnData: [
        { name: 'id', data: ids, type: 'INT32', nullable: false },
        { name: 'name', data: names, type: 'STRING' },
      ],
    });
    const tables = await Promise.all(planParquet([file]).map((piece) => readParquetPiece(piece)));
    assert.deepEqual(rowsOf(concatTables(tables)), ids.map((i) => [i, names[i]]));
  });
}
