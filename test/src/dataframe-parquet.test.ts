// readParquet on a real 2-worker cluster. No Parquet writer is installed (hyparquet only reads), so the test
// writes its files with the small writer below: flat required INT32/DOUBLE columns, PLAIN encoding,
// uncompressed v1 data pages, one page per column chunk, Thrift compact footer (the Parquet format spec).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataframe as dd } from '@loom/client';
import { useCluster } from './cluster-fixture.js';

const fixture = useCluster();

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'loom-df-parquet-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('readParquet: one partition per row group, computing to exactly the rows written', async () => {
  const ids: number[] = [];
  const values: number[] = [];
  // Three files with 3, 1 and 2 row groups of varying sizes.
  const layout = [[100, 100, 50], [300], [7, 93]];
  let next = 0;
  layout.forEach((groups, file) => {
    const columns = groups.map((rows) => {
      const id = Int32Array.from({ length: rows }, (_, i) => next + i);
      const value = Float64Array.from(id, (x) => x * 1.5 - 3);
      next += rows;
      ids.push(...id);
      values.push(...value);
      return { id, value };
    });
    writeFileSync(join(dir, `part-${file}.parquet`), writeParquet(columns));
  });

  const df = dd.readParquet(join(dir, '*.parquet'));
  assert.equal(df.npartitions, 6);
  const table = await df.compute(fixture.client);
  assert.equal(table.numRows, next);
  assert.deepEqual([...(table.getChild('id') ?? [])], ids);
  assert.deepEqual([...(table.getChild('value') ?? [])], values);
  assert.equal(await df.filter((row: { id: number }) => row.id % 10 === 0).count().compute(), Math.ceil(next / 10));
  assert.deepEqual([...((await df.head(3).compute()).getChild('id') ?? [])], [0, 1, 2]);
});

// ---- a minimal Parquet writer (test data only) ----

interface RowGroup {
  id: Int32Array;
  value: Float64Array;
}

const enum Ct {
  I32 = 5,
  I64 = 6,
  BINARY = 8,
  LIST = 9,
  STRUCT = 12,
}

/** Thrift compact protocol: field headers with id deltas, zigzag varints, length-prefixed strings. */
class Compact {
  readonly bytes: number[] = [];
  #last: number[] = [0];

  field(id: number, type: Ct): this {
    const last = this.#last[this.#last.length - 1] as number;
    const delta = id - last;
    if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
    else {
      this.bytes.push(type);
      this.#zigzag(BigInt(id));
    }
    this.#last[this.#last.length - 1] = id;
    return this;
  }
  i32(id: number, value: number): this {
    this.field(id, Ct.I32);
    this.#zigzag(BigInt(value));
    return this;
  }
  i64(id: number, value: number): this {
    this.field(id, Ct.I64);
    this.#zigzag(BigInt(value));
    return this;
  }
  string(id: number, value: string): this {
    this.field(id, Ct.BINARY);
    this.#binary(value);
    return this;
  }
  struct(id: number, body: (w: Compact) => void): this {
    this.field(id, Ct.STRUCT);
    this.#structBody(body);
    return this;
  }
  list(id: number, type: Ct, items: Array<(w: Compact) => void>): this {
    this.field(id, Ct.LIST);
    this.bytes.push(items.length < 15 ? (items.length << 4) | type : 0xf0 | type);
    if (items.length >= 15) this.#varint(BigInt(items.length));
    for (const item of items) item(this);
    return this;
  }
  /** List elements. */
  elementStruct(body: (w: Compact) => void): void {
    this.#structBody(body);
  }
  elementI32(value: number): void {
    this.#zigzag(BigInt(value));
  }
  elementString(value: string): void {
    this.#binary(value);
  }
  stop(): this {
    this.bytes.push(0);
    return this;
  }

  #structBody(body: (w: Compact) => void): void {
    this.#last.push(0);
    body(this);
    this.bytes.push(0);
    this.#last.pop();
  }
  #binary(value: string): void {
    const encoded = Buffer.from(value, 'utf8');
    this.#varint(BigInt(encoded.length));
    this.bytes.push(...encoded);
  }
  #zigzag(value: bigint): void {
    this.#varint(value >= 0n ? value << 1n : ((-value) << 1n) - 1n);
  }
  #varint(value: bigint): void {
    let rest = value;
    while (rest >= 0x80n) {
      this.bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.bytes.push(Number(rest));
  }
}

const INT32 = 1;
const DOUBLE = 5;
const REQUIRED = 0;
const PLAIN = 0;
const RLE = 3;
const UNCOMPRESSED = 0;
const DATA_PAGE = 0;

function writeParquet(groups: RowGroup[]): Buffer {
  const parts: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const rowGroups: Array<(w: Compact) => void> = [];
  let totalRows = 0;
  for (const group of groups) {
    const rows = group.id.length;
    totalRows += rows;
    const chunks: Array<(w: Compact) => void> = [];
    let groupBytes = 0;
    for (const [name, type, data] of [
      ['id', INT32, Buffer.from(group.id.buffer, group.id.byteOffset, group.id.byteLength)],
      ['value', DOUBLE, Buffer.from(group.value.buffer, group.value.byteOffset, group.value.byteLength)],
    ] as const) {
      const header = new Compact()
        .i32(1, DATA_PAGE)
        .i32(2, data.length)
        .i32(3, data.length)
        .struct(5, (w) => w.i32(1, rows).i32(2, PLAIN).i32(3, RLE).i32(4, RLE))
        .stop();
      const page = Buffer.concat([Buffer.from(header.bytes), data]);
      const pageOffset = offset;
      parts.push(page);
      offset += page.length;
      groupBytes += page.length;
      chunks.push((w) =>
        w.elementStruct((c) =>
          c.i64(2, pageOffset).struct(3, (m) =>
            m
              .i32(1, type)
              .list(2, Ct.I32, [(l) => l.elementI32(PLAIN)])
              .list(3, Ct.BINARY, [(l) => l.elementString(name)])
              .i32(4, UNCOMPRESSED)
              .i64(5, rows)
              .i64(6, page.length)
              .i64(7, page.length)
              .i64(9, pageOffset),
          ),
        ),
      );
    }
    rowGroups.push((w) => w.elementStruct((g) => g.list(1, Ct.STRUCT, chunks).i64(2, groupBytes).i64(3, rows)));
  }
  const leaf = (name: string, type: number) => (w: Compact) => w.elementStruct((s) => s.i32(1, type).i32(3, REQUIRED).string(4, name));
  const footer = new Compact()
    .i32(1, 1)
    .list(2, Ct.STRUCT, [(w) => w.elementStruct((s) => s.string(4, 'schema').i32(5, 2)), leaf('id', INT32), leaf('value', DOUBLE)])
    .i64(3, totalRows)
    .list(4, Ct.STRUCT, rowGroups)
    .stop();
  const length = Buffer.alloc(4);
  length.writeUInt32LE(footer.bytes.length);
  parts.push(Buffer.from(footer.bytes), length, Buffer.from('PAR1'));
  return Buffer.concat(parts);
}
