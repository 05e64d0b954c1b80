// The direct Parquet path (src/tasks/parquet/) against hyparquet, the reference it replaces for plain numeric
// columns: Snappy blocks from hyparquet-writer's compressor and corrupted ones, files hyparquet-writer writes in
// every shape the path takes (and the shapes it must hand back), and v1 pages, which hyparquet-writer does not
// write, built here page by page. Seeded, so a failure reproduces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata, parquetRead, snappyUncompress, type ColumnData, type FileMetaData, type SchemaElement } from 'hyparquet';
import { ByteWriter, parquetWriteBuffer, parquetWriteFile } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { seededRandom } from '@loom/testing';
import { readPlainColumns } from '../src/tasks/parquet/plain-columns.js';
import { snappyDecompress } from '../src/tasks/parquet/snappy.js';
import { readParquet } from '../src/tasks/read-parquet.js';
import type { BatchSourceSpec } from '../src/train-many/batch-wire.js';
import { tempDir } from './store-helpers.js';

const dir = tempDir('parquet-direct');
const PARSERS = {
  timestampFromMilliseconds: (millis: bigint) => Number(millis),
  timestampFromMicroseconds: (micros: bigint) => Number(micros) / 1e3,
  timestampFromNanoseconds: (nanos: bigint) => Number(nanos) / 1e6,
  dateFromDays: (days: number) => days * 86_400_000,
};

/** Bytes a Snappy block might hold: runs, repeats at short and long distances, noise. */
function snappyInput(random: () => number, longest = 70_000): Uint8Array {
  const out: number[] = [];
  const length = Math.floor(random() ** 2 * longest);
  while (out.length < length) {
    const kind = random();
    if (kind < 0.3) for (let i = 0, n = 1 + Math.floor(random() * 300); i < n; i++) out.push(Math.floor(random() * 256));
    else if (kind < 0.5) out.push(...new Array<number>(1 + Math.floor(random() * 200)).fill(Math.floor(random() * 256)));
    else if (out.length > 0) {
      const back = 1 + Math.floor(random() * Math.min(out.length, random() < 0.5 ? 8 : 70_000));
      for (let i = 0, n = 4 + Math.floor(random() * 80); i < n; i++) out.push(out[out.length - back]!);
    }
  }
  return Uint8Array.from(out.slice(0, length));
}

test('Snappy: every block hyparquet-writer compresses decompresses to its input, as hyparquet does', () => {
  const random = seededRandom(21);
  for (let trial = 0; trial < 300; trial++) {
    const input = snappyInput(random);
    const block = snappyCompress(input);
    const ours = new Uint8Array(input.length);
    snappyDecompress(block, ours);
    assert.deepEqual(ours, input, `trial ${trial}`);
    const reference = new Uint8Array(input.length);
    snappyUncompress(block, reference);
    assert.deepEqual(reference, input);
  }
});

test('Snappy: a corrupted block is an error or exactly what hyparquet decodes, never another output', () => {
  const random = seededRandom(22);
  let rejected = 0;
  for (let trial = 0; trial < 600; trial++) {
    const input = snappyInput(random, 8_000);
    const block = snappyCompress(input).slice();
    const flips = 1 + Math.floor(random() * 3);
    for (let f = 0; f < flips && block.length > 0; f++) block[Math.floor(random() * block.length)] = Math.floor(random() * 256);
    const cut = random() < 0.2 ? block.subarray(0, Math.floor(random() * block.length)) : block;
    let ours: Uint8Array | Error;
    try {
      ours = new Uint8Array(input.length);
      snappyDecompress(cut, ours);
    } catch (error) {
      assert.match((error as Error).message, /^corrupt Snappy data: /);
      ours = error as Error;
    }
    if (ours instanceof Error) {
      rejected++;
      continue;
    }
    const reference = new Uint8Array(input.length);
    snappyUncompress(cut, reference);
    assert.deepEqual(ours, reference, `trial ${trial}: accepted, but not as hyparquet decodes it`);
  }
  // A flipped byte inside a literal is still a valid block; the rest must be rejected, and many are.
  assert.ok(rejected > 100, `only ${rejected} of 600 corrupted blocks were rejected`);
});

/** What hyparquet reads for `names`, each column as doubles (the task reader's conversion of cells). */
async function referenceColumns(buffer: ArrayBuffer, names: string[]): Promise<Map<string, Float64Array>> {
  const metadata = parquetMetadata(buffer, { parsers: PARSERS });
  const rows = Number(metadata.num_rows);
  const out = new Map(names.map((name) => [name, new Float64Array(rows).fill(NaN)]));
  await parquetRead({
    file: buffer, metadata, columns: names, parsers: PARSERS,
    onChunk: (chunk: ColumnData) => {
      const target = out.get(chunk.columnName) as Float64Array;
      for (let i = chunk.rowStart; i < chunk.rowEnd; i++) {
        const cell = (chunk.columnData as ArrayLike<unknown>)[i - chunk.rowStart];
        target[i] = cell === null || cell === undefined ? NaN : typeof cell === 'bigint' ? Number(cell) : cell instanceof Date ? cell.getTime() : Number(cell);
      }
    },
  });
  return out;
}

async function direct(buffer: ArrayBuffer, names: string[]): Promise<Map<string, Float64Array> | undefined> {
  const metadata = parquetMetadata(buffer, { parsers: PARSERS });
  return readPlainColumns(metadata, names, 0, Number(metadata.num_rows), (start, end) => new Uint8Array(buffer, start, end - start));
}

function toArrayBuffer(bytes: ArrayBuffer | Uint8Array): ArrayBuffer {
  return bytes instanceof ArrayBuffer ? bytes : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

test('files hyparquet-writer writes in each shape the direct path takes read as hyparquet reads them', async () => {
  const random = seededRandom(23);
  for (let trial = 0; trial < 40; trial++) {
    const rows = 1 + Math.floor(random() * 3000);
    const codec = random() < 0.5 ? 'SNAPPY' : 'UNCOMPRESSED';
    const nullable = random() < 0.3;
    const day = 86_400_000;
    const repetition = nullable ? 'OPTIONAL' : 'REQUIRED';
    const ints = (scale: number): number[] => Array.from({ length: rows }, () => Math.floor((random() - 0.5) * scale));
    const columns: Array<{ name: string; data: unknown[]; element: SchemaElement }> = [
      { name: 'ts', data: Array.from({ length: rows }, (_, i) => new Date(1.7e12 + i * 3_600_000)), element: { name: 'ts', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: repetition } },
      { name: 'micros', data: Array.from({ length: rows }, (_, i) => BigInt(1.7e15) + BigInt(i * 1_000_003)), element: { name: 'micros', type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' }, repetition_type: repetition } },
      { name: 'double', data: Array.from({ length: rows }, () => (random() - 0.5) * 10 ** Math.floor(random() * 30 - 15)), element: { name: 'double', type: 'DOUBLE', repetition_type: repetition } },
      { name: 'float', data: Array.from({ length: rows }, () => Math.fround(random() * 1000 - 500)), element: { name: 'float', type: 'FLOAT', repetition_type: repetition } },
      { name: 'int32', data: ints(2 ** 32), element: { name: 'int32', type: 'INT32', repetition_type: repetition } },
      { name: 'uint32', data: ints(2 ** 32).map((v) => v + 2 ** 31), element: { name: 'uint32', type: 'INT32', converted_type: 'UINT_32', repetition_type: repetition } },
      { name: 'int64', data: ints(2 ** 53).map((v) => BigInt(v) * BigInt(1 + Math.floor(random() * 1000))), element: { name: 'int64', type: 'INT64', repetition_type: repetition } },
      { name: 'date', data: Array.from({ length: rows }, (_, i) => new Date((19_000 + i) * day)), element: { name: 'date', type: 'INT32', converted_type: 'DATE', repetition_type: repetition } },
    ];
    const buffer = toArrayBuffer(parquetWriteBuffer({
      columnData: columns.map(({ name, data }) => ({ name, data: data as never, encoding: 'PLAIN' as const })),
      schema: [{ name: 'root', num_children: columns.length }, ...columns.map((column) => column.element)],
      codec,
      rowGroupSize: 1 + Math.floor(random() * rows),
      pageSize: 64 + Math.floor(random() * 20_000),
    }));
    const names = columns.map((column) => column.name);
    const ours = await direct(buffer, names);
    assert.ok(ours !== undefined, `trial ${trial} (${codec}, nullable ${nullable}): the direct path declined a plain file`);
    assert.deepEqual(ours, await referenceColumns(buffer, names), `trial ${trial}`);
  }
});

test('the direct path hands back what it does not read: dictionaries, nulls, strings, other codecs', async () => {
  const rows = 200;
  const values = Array.from({ length: rows }, (_, i) => (i % 7) * 1.5);
  const cases: Array<[string, Parameters<typeof parquetWriteBuffer>[0]]> = [
    ['a dictionary-encoded column', { columnData: [{ name: 'v', data: values, type: 'DOUBLE', nullable: false }] }],
    ['a column with nulls', { columnData: [{ name: 'v', data: values.map((v, i) => (i === 5 ? null : v)), type: 'DOUBLE', nullable: true, encoding: 'PLAIN' }] }],
    ['a string column', { columnData: [{ name: 'v', data: values.map(String), type: 'STRING', nullable: false }] }],
    ['a GZIP column', { codec: 'GZIP', compressors: { GZIP: (input: Uint8Array) => input }, columnData: [{ name: 'v', data: values, type: 'DOUBLE', nullable: false, encoding: 'PLAIN' }] }],
  ];
  for (const [what, options] of cases) {
    assert.equal(await direct(toArrayBuffer(parquetWriteBuffer(options)), ['v']), undefined, what);
  }
});

/** A file of one required or optional DOUBLE column in v1 data pages (levels and values compressed together). */
function v1File(values: Float64Array, pageRows: number, codec: 'SNAPPY' | 'UNCOMPRESSED', optional: boolean): ArrayBuffer {
  const writer = new ByteWriter();
  writer.appendUint32(0x31524150);
  const start = writer.offset;
  let uncompressed = 0;
  for (let at = 0; at < values.length; at += pageRows) {
    const page = values.subarray(at, Math.min(values.length, at + pageRows));
    const levels = optional ? definedLevels(page.length) : new Uint8Array(0);
    const body = new Uint8Array(levels.length + page.byteLength);
    body.set(levels);
    body.set(new Uint8Array(page.buffer, page.byteOffset, page.byteLength), levels.length);
    const stored = codec === 'SNAPPY' ? snappyCompress(body) : body;
    writePageHeader(writer, {
      type: 'DATA_PAGE',
      uncompressed_page_size: body.length,
      compressed_page_size: stored.length,
      data_page_header: { num_values: page.length, encoding: 'PLAIN', definition_level_encoding: 'RLE', repetition_level_encoding: 'RLE' },
    });
    writer.appendBytes(stored);
    uncompressed += body.length;
  }
  const end = writer.offset;
  const metadata: FileMetaData = {
    version: 1,
    schema: [{ name: 'root', num_children: 1 }, { name: 'v', type: 'DOUBLE', repetition_type: optional ? 'OPTIONAL' : 'REQUIRED' }],
    num_rows: BigInt(values.length),
    row_groups: [{
      columns: [{ file_offset: BigInt(start), meta_data: {
        type: 'DOUBLE', encodings: ['PLAIN', 'RLE'], path_in_schema: ['v'], codec, num_values: BigInt(values.length),
        total_uncompressed_size: BigInt(uncompressed), total_compressed_size: BigInt(end - start), data_page_offset: BigInt(start),
      } }],
      total_byte_size: BigInt(uncompressed),
      num_rows: BigInt(values.length),
    }],
    metadata_length: 0,
  };
  writeMetadata(writer, metadata);
  writer.appendUint32(0x31524150);
  return writer.getBuffer();
}

/** Definition levels of `count` defined values at bit width 1: a 4-byte length, then one RLE run of 1s. */
function definedLevels(count: number): Uint8Array {
  const run: number[] = [];
  for (let header = count * 2; ; header = Math.floor(header / 128)) {
    run.push(header < 128 ? header : (header % 128) | 128);
    if (header < 128) break;
  }
  run.push(1);
  return Uint8Array.from([run.length, 0, 0, 0, ...run]);
}

test('v1 data pages, required and optional (no nulls), uncompressed and Snappy, read as hyparquet reads them', async () => {
  const random = seededRandom(24);
  for (let trial = 0; trial < 24; trial++) {
    const values = Float64Array.from({ length: 1 + Math.floor(random() * 2000) }, () => random() * 100 - 50);
    const file = v1File(values, 1 + Math.floor(random() * 700), trial % 2 === 0 ? 'SNAPPY' : 'UNCOMPRESSED', trial % 4 >= 2);
    const reference = await referenceColumns(file, ['v']);
    assert.deepEqual(reference.get('v'), values, `trial ${trial}: the hand-built file is not what hyparquet reads`);
    assert.deepEqual(await direct(file, ['v']), reference, `trial ${trial}`);
  }
});

test('a corrupt page in a plain file is SOURCE_FAILED naming the file, not a crash or wrong values', async () => {
  const file = join(dir, 'corrupt.parquet');
  const values = Array.from({ length: 500 }, (_, i) => i * 0.25);
  parquetWriteFile({ filename: file, columnData: [
    { name: 'ts', data: values.map((_, i) => i), type: 'DOUBLE', nullable: false, encoding: 'PLAIN' },
    { name: 'v', data: values, type: 'DOUBLE', nullable: false, encoding: 'PLAIN' },
  ] });
  const bytes = new Uint8Array((await import('node:fs')).readFileSync(file));
  const metadata = parquetMetadata(toArrayBuffer(bytes));
  const chunk = metadata.row_groups[0]!.columns[1]!.meta_data!;
  // The Snappy length header of the page sits after its page header; a wrong length breaks the block.
  const at = Number(chunk.data_page_offset) + Number(chunk.total_compressed_size) - 1;
  bytes[at] = bytes[at]! ^ 0xff;
  const broken = new Uint8Array(bytes);
  broken.fill(0xff, Number(chunk.data_page_offset) + 20, Number(chunk.data_page_offset) + 28);
  writeFileSync(file, broken);
  const spec: BatchSourceSpec = { source: { kind: 'file', file }, rangeKind: 'number', columns: ['v'], first: 0, count: 1 };
  const read = await readParquet(spec, 'ts', Float64Array.of(0, 400, 400, 500));
  assert.equal((read as { code?: string }).code, 'SOURCE_FAILED', JSON.stringify(read).slice(0, 300));
  assert.match((read as { message: string }).message, new RegExp(`^cannot read ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
});
