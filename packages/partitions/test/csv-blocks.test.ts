// CSV blocks: for many block sizes the blocks together read back exactly the rows of the whole file, with
// RFC 4180 quoting (delimiters, newlines and quotes inside fields), CRLF, no trailing newline and empty files;
// and a block's first row, found by agreement of quote states, is the one an exact scan finds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { concatTables, planCsvBlocks, readCsvBlock, type CsvSchema } from '../src/index.js';
import { exactBlockStart, findBlockStart } from '../src/csv-block-start.js';
import { FileWindow } from '../src/file-window.js';
import { rowsOf, tempDir } from './helpers.js';

const dir = tempDir('csv-blocks');
const schema: CsvSchema = { columns: [{ name: 'id', type: 'int32' }, { name: 'text', type: 'utf8' }, { name: 'x', type: 'float64' }] };

const TEXTS: Array<string | null> = [
  'plain', 'a,b', 'line1\nline2', 'say "hi"', '', null, 'x\r\ny', 'héllo ✓', '"', '""', ',\n,',
  // A quoted field that looks like CSV rows: a block starting inside it must not take it for rows.
  '1,fake,2.5\n3,fake,4.5\n5,fake,6.5', 'ends with newline\n', '\nstarts with newline',
];

function quote(text: string | null, always: boolean): string {
  if (text === null) return '';
  if (always || text === '' || /[",\r\n]/.test(text)) return `"${text.replaceAll('"', '""')}"`;
  return text;
}

function makeRows(count: number): Array<[number, string | null, number | null]> {
  return Array.from({ length: count }, (_, i) => [i - 3, TEXTS[i % TEXTS.length] as string | null, i % 7 === 0 ? null : i * 1.25 - 40]);
}

function writeCsv(name: string, rows: Array<[number, string | null, number | null]>, newline: string, trailing: boolean): string {
  const lines = ['id,text,x', ...rows.map(([id, text, x], i) => `${i % 5 === 0 ? `"${id}"` : id},${quote(text, i % 3 === 0)},${x ?? ''}`)];
  const path = join(dir, name);
  writeFileSync(path, lines.join(newline) + (trailing ? newline : ''));
  return path;
}

async function readAll(path: string, blocksize: number): Promise<unknown[][]> {
  const tables = await Promise.all(planCsvBlocks([path], blocksize).map((block) => readCsvBlock(block, schema)));
  return rowsOf(concatTables(tables));
}

for (const [label, newline, trailing] of [['LF', '\n', true], ['CRLF', '\r\n', true], ['no trailing newline', '\n', false]] as const) {
  test(`blocks reassemble the whole file exactly for many block sizes (${label})`, async () => {
    const rows = makeRows(60);
    const path = writeCsv(`rows-${label.replaceAll(' ', '-')}.csv`, rows, newline, trailing);
    const expected = rows.map(([id, text, x]) => [id, text, x]);
    for (const blocksize of [1, 2, 3, 5, 7, 11, 16, 31, 64, 100, 257, 1000, 1 << 20]) {
      assert.deepEqual(await readAll(path, blocksize), expected, `blocksize ${blocksize}`);
    }
  });
}

test('an empty file and a header-only file read as empty tables with the schema', async () => {
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  const headerOnly = join(dir, 'header-only.csv');
  writeFileSync(headerOnly, 'id,text,x\n');
  for (const path of [empty, headerOnly]) {
    for (const blocksize of [1, 4, 100]) {
      const tables = await Promise.all(planCsvBlocks([path], blocksize).map((block) => readCsvBlock(block, schema)));
      const table = concatTables(tables);
      assert.equal(table.numRows, 0);
      assert.deepEqual(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`), ['id:Int32', 'text:Utf8', 'x:Float64']);
    }
  }
});

test('blocks of several files keep file order and a global index', async () => {
  const a = writeCsv('multi-a.csv', makeRows(5), '\n', true);
  const b = writeCsv('multi-b.csv', makeRows(3), '\n', false);
  const blocks = planCsvBlocks([a, b], 40);
  assert.deepEqual(blocks.map((block) => block.index), blocks.map((_, i) => i));
  const rows = rowsOf(concatTables(await Promise.all(blocks.map((block) => readCsvBlock(block, schema)))));
  assert.deepEqual(rows.map((row) => row[0]), [-3, -2, -1, 0, 1, -3, -2, -1]);
});

test('a file whose quoted fields hold many newlines resyncs at every block start', async () => {
  const rows = Array.from({ length: 200 }, (_, i) => [i, `para ${i}\n${'line,\n'.repeat(i % 9)}end "q" ${i}`, i / 2] as [number, string, number]);
  const path = writeCsv('paragraphs.csv', rows, '\n', true);
  for (const blocksize of [7, 50, 333, 4096]) {
    assert.deepEqual(await readAll(path, blocksize), rows, `blocksize ${blocksize}`);
  }
});

test('MiB blocks of a large file: quotes only far from some block starts, columns reserved mid-block', async () => {
  // ~6 MiB: quote-free rows, then rows with quoted multi-line fields from ~3.5 MiB on. Block starts look ahead
  // up to 4 MiB for a quote (past the 1 MiB window) when deciding whether they begin inside a quoted field.
  const rows: Array<[number, string | null, number | null]> = [];
  let bytes = 0;
  for (let i = 0; bytes < 6 << 20; i++) {
    const text = bytes > 3.5 * 2 ** 20 && i % 3 === 0 ? `quoted "${i}",\nsecond line` : i % 11 === 0 ? null : `text${i}`;
    rows.push([i, text, i % 13 === 0 ? null : i / 4]);
    bytes += 24 + (text?.length ?? 0);
  }
  const path = join(dir, 'large.csv');
  writeFileSync(path, ['id,text,x', ...rows.map(([id, text, x]) => `${id},${quote(text, false)},${x ?? ''}`)].join('\n') + '\n');
  const expected = rows.map(([id, text, x]) => [id, text, x]);
  for (const blocksize of [1 << 20, 1.5 * 2 ** 20, 5 << 20]) {
    assert.deepEqual(await readAll(path, blocksize), expected, `blocksize ${blocksize}`);
  }
});

test('the first row a block finds by agreement of states is the one a scan from the file start finds, at every byte', async () => {
  // Multi-line quoted fields (one long enough that the look back must widen past 256 bytes), doubled quotes,
  // quotes inside unquoted fields, fields that open with a line ending, CRLF and lone CRs.
  const long = `"${Array.from({ length: 24 }, (_, i) => `line ${i}, "" with 5'10"" inside`).join('\n')}"`;
  const rows = [
    'id,text,x', `1,${long},1.5`, '2,5\'10",2', '3,"a\nb",3', '4,say "hi",4', '5,"\n,\n",5', '6,"""",6\r', '7,plain,7\r\n',
    '8,"x""\r\ny",8', `9,${long},9`, '10,"",10',
  ];
  const text = rows.join('\n') + '\n';
  const path = join(dir, 'agreement.csv');
  writeFileSync(path, text);
  for (let start = 1; start < Buffer.byteLength(text); start++) {
    const window = await FileWindow.open(path, start <= 4 ? 0 : start - 2);
    try {
      const agreed = await findBlockStart(window, path, start, 0x2c, 0);
      const exact = await exactBlockStart(path, start, 0x2c);
      assert.equal(agreed.offset, exact.offset, `block starting at byte ${start}`);
    } finally {
      await window.close();
    }
  }
});
