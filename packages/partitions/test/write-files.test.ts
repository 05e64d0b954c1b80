// The file writers without a cluster: every Arrow type Loom's partitions hold (nulls, an empty partition
// included) through writeParquetPartition and back through hyparquet and Loom's own readParquetPiece (and
// pyarrow when /usr/bin/python3 has it); CSV quoting against csv-parse and back through readCsvBlock on a seeded
// random table; and the directory's life: refused when not empty, unwritable, stale temporary files ignored by
// readers and removed by the next write, old files removed by an overwrite's commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Binary, Bool, DateDay, Dictionary, Float32, Float64, Int16, Int32, Int64, Int8, List, Field, Table, Timestamp, TimestampMillisecond, TimeUnit,
  Uint32, Uint8, Utf8, vectorFromArray, type DataType,
} from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { parse } from 'csv-parse/sync';
import {
  commitDirectory, expandPaths, inferCsvSchema, newWriteId, PartitionError, planCsvBlocks, planParquet, prepareDirectory, readCsvBlock,
  readParquetPiece, writeCsvPartition, writeParquetPartition, type FileWriteTarget,
} from '../src/index.js';
import { buildColumn, tableFromColumns } from '../src/arrow-build.js';
import { rowsOf, seededRandom, tempDir } from './helpers.js';

const root = tempDir('write-files');
const DAY = 86_400_000;

function target(dir: string, index = 0): FileWriteTarget {
  return { dir, writeId: newWriteId(), index, width: 5 };
}

/** One column of every type, three rows: a value, a null, an edge value. */
function everyType(): Table {
  const column = <T extends DataType>(values: unknown[], type: T) => vectorFromArray(values as never[], type);
  return new Table({
    bool: column([true, null, false], new Bool()),
    int8: column([-128, null, 127], new Int8()),
    uint8: column([0, null, 255], new Uint8()),
    int16: column([-32768, null, 32767], new Int16()),
    int32: column([-2147483648, null, 2147483647], new Int32()),
    uint32: column([0, null, 4294967295], new Uint32()),
    int64: column([-(2n ** 63n), null, 2n ** 63n - 1n], new Int64()),
    float32: column([1.5, null, -0.25], new Float32()),
    float64: column([Math.PI, null, Number.NaN], new Float64()),
    utf8: column(['a,"b"\nc ✓', null, ''], new Utf8()),
    binary: column([new Uint8Array([0, 1, 255]), null, new Uint8Array([])], new Binary()),
    date: column([new Date(Date.UTC(2024, 1, 29)), null, new Date(Date.UTC(1969, 11, 31))], new DateDay()),
    ts: column([Date.UTC(2024, 0, 1, 12, 30, 0, 123), null, -1], new TimestampMillisecond()),
    tsUtcMicros: column([Date.UTC(2000, 0, 1), null, 1], new Timestamp(TimeUnit.MICROSECOND, 'UTC')),
    dict: column(['x', null, 'y'], new Dictionary(new Utf8(), new Int32())),
  });
}

/** What Loom's Parquet reader gives back for everyType (its own type mapping: parquet-types.ts). */
const LOOM_READ_TYPES = [
  'bool:Bool', 'int8:Int8', 'uint8:Uint8', 'int16:Int16', 'int32:Int32', 'uint32:Float64', 'int64:Int64', 'float32:Float32',
  'float64:Float64', 'utf8:Utf8', 'binary:Binary', 'date:Date32<DAY>', 'ts:Timestamp<MILLISECOND>', 'tsUtcMicros:Timestamp<MILLISECOND>', 'dict:Utf8',
];

function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (value instanceof Date) return value.getTime();
  return value;
}

async function fileBuffer(path: string): Promise<ArrayBuffer> {
  const bytes = readFileSync(path);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

test('Parquet: every type, nulls included, reads back through hyparquet and readParquetPiece', async () => {
  const dir = join(root, 'types');
  mkdirSync(dir);
  const table = everyType();
  const written = await writeParquetPartition(table, target(dir));
  assert.deepEqual({ path: written.path, rows: written.rows }, { path: join(dir, 'part-00000.parquet'), rows: 3 });
  assert.ok(written.bytes > 0);

  const rows = await parquetReadObjects({ file: await fileBuffer(written.path), utf8: false });
  assert.deepEqual(rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)]))), [
    { bool: true, int8: -128, uint8: 0, int16: -32768, int32: -2147483648, uint32: 0, int64: -(2n ** 63n), float32: 1.5, float64: Math.PI, utf8: 'a,"b"\nc ✓', binary: [0, 1, 255], date: Date.UTC(2024, 1, 29), ts: Date.UTC(2024, 0, 1, 12, 30, 0, 123), tsUtcMicros: Date.UTC(2000, 0, 1), dict: 'x' },
    Object.fromEntries(table.schema.fields.map((f) => [f.name, null])),
    { bool: false, int8: 127, uint8: 255, int16: 32767, int32: 2147483647, uint32: 4294967295, int64: 2n ** 63n - 1n, float32: -0.25, float64: Number.NaN, utf8: '', binary: [], date: -DAY, ts: -1, tsUtcMicros: 1, dict: 'y' },
  ]);

  const [piece, ...more] = planParquet([written.path]);
  assert.equal(more.length, 0);
  const back = await readParquetPiece(piece!);
  assert.deepEqual(back.schema.fields.map((f) => `${f.name}:${String(f.type)}`), LOOM_READ_TYPES);
  const expected = rowsOf(table).map((row) => row.map(plain));
  const got = rowsOf(back).map((row) => row.map(plain));
  // uint32 comes back as Float64 and the microsecond timestamp as milliseconds: the same values.
  assert.deepEqual(got, expected);
});

test('Parquet: an empty partition is a valid file with the schema and no rows; non-nullable columns are REQUIRED', async () => {
  const dir = join(root, 'empty');
  mkdirSync(dir);
  const written = await writeParquetPartition(everyType().slice(0, 0), target(dir));
  assert.equal(written.rows, 0);
  assert.deepEqual(planParquet([written.path]), [], 'no row group, so no partition to read');
  assert.deepEqual(await parquetReadObjects({ file: await fileBuffer(written.path) }), []);

  const strict = tableFromColumns([new Field('id', new Int32(), false)], [buildColumn(new Int32(), [1, 2])], 2);
  const file = await writeParquetPartition(strict, target(dir, 1));
  const back = await readParquetPiece(planParquet([file.path])[0]!);
  assert.equal(back.schema.fields[0]?.nullable, false);
});

test('Parquet and CSV refuse a list column by name; CSV refuses binary', async () => {
  const dir = join(root, 'refused');
  mkdirSync(dir);
  const lists = new Table({ v: vectorFromArray([[1, 2]], new List(new Field('item', new Float64(), true))) });
  await assert.rejects(writeParquetPartition(lists, target(dir)), (error: unknown) => error instanceof PartitionError && error.code === 'UNSUPPORTED_TYPE' && /column "v"/.test(error.message));
  await assert.rejects(writeCsvPartition(everyType(), target(dir)), (error: unknown) => error instanceof PartitionError && error.code === 'UNSUPPORTED_TYPE' && /"binary"/.test(error.message));
  assert.deepEqual(readdirSync(dir), [], 'a refused partition leaves no file, temporary or final');
});

test('pyarrow reads the Parquet file with the Arrow types it was written from (skipped without pyarrow)', async (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import pyarrow'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('pyarrow is not importable by /usr/bin/python3 (not packaged in Debian 12)');
    return;
  }
  const dir = join(root, 'pyarrow');
  mkdirSync(dir);
  const written = await writeParquetPartition(everyType(), target(dir));
  const script = 'import sys, pyarrow.parquet as pq\nt = pq.read_table(sys.argv[1])\nprint("\\n".join(f"{f.name}:{f.type}" for f in t.schema))\nprint(t.num_rows)';
  const result = spawnSync('/usr/bin/python3', ['-c', script, written.path], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.stdout.trim().split('\n'), [
    'bool:bool', 'int8:int8', 'uint8:uint8', 'int16:int16', 'int32:int32', 'uint32:uint32', 'int64:int64', 'float32:float', 'float64:double',
    'utf8:string', 'binary:binary', 'date:date32[day]', 'ts:timestamp[ms]', 'tsUtcMicros:timestamp[us, tz=UTC]', 'dict:string', '3',
  ]);
});

test('CSV: RFC 4180 quoting, nulls as empty fields, and the file reads back through readCsvBlock', async () => {
  const dir = join(root, 'csv-types');
  mkdirSync(dir);
  const table = everyType().select(['bool', 'int32', 'int64', 'float64', 'utf8', 'date', 'ts', 'tsUtcMicros']);
  const written = await writeCsvPartition(table, target(dir));
  assert.equal(readFileSync(written.path, 'utf8'), [
    'bool,int32,int64,float64,utf8,date,ts,tsUtcMicros',
    `true,-2147483648,-9223372036854775808,${Math.PI},"a,""b""\nc ✓",2024-02-29,2024-01-01T12:30:00.123,2000-01-01T00:00:00.000000Z`,
    ',,,,,,,',
    'false,2147483647,9223372036854775807,NaN,"",1969-12-31,1969-12-31T23:59:59.999,1970-01-01T00:00:00.001000Z',
    '',
  ].join('\n'));
  const schema = await inferCsvSchema(written.path, { dtypes: { int64: 'utf8' } });
  const back = await readCsvBlock(planCsvBlocks([written.path], 1 << 20)[0]!, schema, {});
  assert.deepEqual(rowsOf(back), [
    [true, -2147483648, '-9223372036854775808', Math.PI, 'a,"b"\nc ✓', Date.UTC(2024, 1, 29), Date.UTC(2024, 0, 1, 12, 30, 0, 123), Date.UTC(2000, 0, 1)],
    [null, null, null, null, null, null, null, null],
    [false, 2147483647, '9223372036854775807', Number.NaN, '', -DAY, -1, 1],
  ]);
});

test('CSV on a seeded random table: csv-parse reads the same fields, readCsvBlock the same values', async () => {
  const seed = Number(process.env['LOOM_FUZZ_SEED'] ?? 20261216);
  const random = seededRandom(seed);
  const dir = join(root, 'csv-random');
  mkdirSync(dir);
  const alphabet = ['a', 'b', ' ', ',', ';', '"', '\n', '\r', '\r\n', 'é', '✓', "'", '\t'];
  const text = () => (random() < 0.1 ? null : Array.from({ length: Math.floor(random() * 8) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
  const rows = 300;
  for (const delimiter of [',', ';', '\t']) {
    const s = Array.from({ length: rows }, text);
    const x = Array.from({ length: rows }, () => (random() < 0.1 ? null : (random() - 0.5) * 10 ** Math.floor(random() * 30 - 15)));
    const n = Array.from({ length: rows }, () => (random() < 0.1 ? null : Math.floor((random() - 0.5) * 2 ** 31)));
    const table = new Table({ s: vectorFromArray(s, new Utf8()), x: vectorFromArray(x, new Float64()), n: vectorFromArray(n, new Int32()) });
    const written = await writeCsvPartition(table, { ...target(dir), index: delimiter.charCodeAt(0) }, { delimiter, lineTerminator: '\r\n' });
    const fields = parse(readFileSync(written.path, 'utf8'), { delimiter, record_delimiter: '\r\n', relax_column_count: false }) as string[][];
    assert.deepEqual(fields[0], ['s', 'x', 'n'], `seed ${seed}`);
    assert.deepEqual(fields.slice(1).map((row) => row[0]), s.map((v) => v ?? ''), `csv-parse, seed ${seed}, delimiter ${JSON.stringify(delimiter)}`);
    const schema = await inferCsvSchema(written.path, { delimiter, dtypes: { s: 'utf8', x: 'float64', n: 'int32' } });
    const back = await readCsvBlock(planCsvBlocks([written.path], 1 << 20)[0]!, schema, { delimiter });
    assert.deepEqual(rowsOf(back), rowsOf(table), `readCsvBlock, seed ${seed}, delimiter ${JSON.stringify(delimiter)}`);
  }
});

test('a directory that is not empty is refused without overwrite; an unwritable one is refused', () => {
  const dir = join(root, 'busy');
  mkdirSync(dir);
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  assert.throws(() => prepareDirectory(dir, { overwrite: false, writeId: newWriteId() }), (error: unknown) =>
    error instanceof PartitionError && error.code === 'WRITE_TARGET_EXISTS' && error.message.includes('notes.txt'));
  assert.throws(() => prepareDirectory(join(dir, 'notes.txt', 'below'), { overwrite: false, writeId: newWriteId() }), (error: unknown) =>
    error instanceof PartitionError && error.code === 'WRITE_UNWRITABLE' && /ENOTDIR/.test(error.message));
  assert.throws(() => prepareDirectory(join(dir, 'notes.txt'), { overwrite: true, writeId: newWriteId() }), (error: unknown) =>
    error instanceof PartitionError && error.code === 'WRITE_UNWRITABLE' && error.message.includes('notes.txt'));
  const fresh = prepareDirectory(join(root, 'made', 'deep'), { overwrite: false, writeId: newWriteId() });
  assert.deepEqual(readdirSync(fresh.dir), [], 'made with its parents, and the writability probe is gone');
});

test('a killed writer\'s temporary file is ignored by readers and removed by the next write; overwrite removes old files at commit', async () => {
  const dir = join(root, 'lifecycle');
  mkdirSync(dir);
  const first = await writeParquetPartition(new Table({ v: vectorFromArray([1, 2], new Int32()) }), target(dir, 0));
  const second = await writeParquetPartition(new Table({ v: vectorFromArray([3], new Int32()) }), target(dir, 1));
  // What a writer SIGKILLed mid-write leaves: a partial file under its temporary name.
  const stale = `.part-00002.parquet.${newWriteId()}.4242.abcd1234.tmp`;
  writeFileSync(join(dir, stale), readFileSync(first.path).subarray(0, 20));
  assert.deepEqual(expandPaths(join(dir, '*.parquet')), [first.path, second.path]);
  assert.deepEqual(expandPaths(join(dir, '*')), [first.path, second.path], 'a wildcard does not match hidden files');
  assert.deepEqual(expandPaths(dir), [first.path, second.path], 'a directory reads as its visible files');

  const writeId = newWriteId();
  const prepared = prepareDirectory(dir, { overwrite: true, writeId });
  assert.ok(!readdirSync(dir).includes(stale), 'the next write removed the stale temporary file');
  assert.deepEqual(prepared.existing.sort(), ['part-00000.parquet', 'part-00001.parquet']);
  const replaced = await writeParquetPartition(new Table({ v: vectorFromArray([9], new Int32()) }), { dir, writeId, index: 0, width: 5 });
  writeFileSync(join(dir, `.part-00000.parquet.${writeId}.4243.beef0000.tmp`), 'a killed attempt of this write');
  commitDirectory(prepared, [replaced], writeId);
  assert.deepEqual(readdirSync(dir), ['part-00000.parquet']);
  assert.deepEqual(rowsOf(await readParquetPiece(planParquet([replaced.path])[0]!)), [[9]]);
});
