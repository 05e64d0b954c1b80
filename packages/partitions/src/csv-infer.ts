// Inferring a CSV schema from the header and a sample of the first file, like pandas/Dask: each column gets the
// narrowest type every sampled value fits (int32, float64, bool, timestamp, else utf8); `dtypes` overrides. A
// UTF-8 byte-order mark before the header is not part of the first name.
import { NOT_A_VALUE, parseBool, parseFloat64, parseInt32, parseTimestamp } from './csv-values.js';
import { quoteError } from './csv-errors.js';
import { bomLength, FIELD_QUOTED, fieldText, RowTokenizer } from './csv-tokenizer.js';
import { CSV_TYPES, resolveCsvOptions, type CsvOptions, type CsvSchema, type CsvType } from './csv-types.js';
import { PartitionError } from './errors.js';
import { FileWindow } from './file-window.js';

interface Candidates {
  values: number;
  int32: boolean;
  float64: boolean;
  bool: boolean;
  timestamp: boolean;
}

export async function inferCsvSchema(path: string, options?: CsvOptions): Promise<CsvSchema> {
  const opts = resolveCsvOptions(options);
  const window = await FileWindow.open(path, 0, Math.max(opts.sampleBytes, 4096));
  let names: string[] | undefined;
  const seen: Candidates[] = [];
  try {
    const tokenizer = new RowTokenizer(opts.delimiter);
    let pos = bomLength(window.buf, window.length);
    while (pos < window.length) {
      const next = tokenizer.next(window.buf, pos, window.length, window.atEof);
      if (next === -1) {
        // The sample ends mid-row; a header longer than the sample is read whole.
        if (names !== undefined || window.atEof) break;
        await window.refill(0);
        continue;
      }
      // Broken quoting fails the read of this file in every mode: say so now, rather than type columns by garbage.
      if (tokenizer.error !== undefined) throw await quoteError(path, tokenizer.error, window.base + tokenizer.errorAt);
      const buf = window.buf;
      pos = next;
      if (tokenizer.isBlank()) continue;
      if (names === undefined) {
        names = columnNames(tokenizer, buf, opts.header);
        for (let c = 0; c < names.length; c++) seen.push({ values: 0, int32: true, float64: true, bool: true, timestamp: true });
        if (opts.header) continue;
      }
      if (tokenizer.count !== names.length) continue; // a bad line: reported when its block is read
      for (let c = 0; c < names.length; c++) observe(seen[c] as Candidates, buf, tokenizer.starts[c] as number, tokenizer.ends[c] as number, tokenizer.flags[c] as number);
    }
  } finally {
    await window.close();
  }
  const columns = (names ?? []).map((name, c) => ({ name, type: decide(seen[c] as Candidates) }));
  return { columns: applyDtypes(columns, options?.dtypes, path) };
}

function columnNames(tokenizer: RowTokenizer, buf: Uint8Array, header: boolean): string[] {
  const names: string[] = [];
  const used = new Set<string>();
  for (let c = 0; c < tokenizer.count; c++) {
    let name = header ? fieldText(buf, tokenizer.starts[c] as number, tokenizer.ends[c] as number, tokenizer.flags[c] as number) : '';
    if (name === '') name = `column${c}`;
    // Duplicate names get pandas' suffixes: a, a.1, a.2.
    const base = name;
    for (let k = 1; used.has(name); k++) name = `${base}.${k}`;
    used.add(name);
    names.push(name);
  }
  return names;
}

function observe(seen: Candidates, buf: Uint8Array, start: number, end: number, flags: number): void {
  if (start === end && !(flags & FIELD_QUOTED)) return; // null fits every type
  seen.values++;
  if (seen.int32 && parseInt32(buf, start, end) === NOT_A_VALUE) seen.int32 = false;
  if (seen.float64 && parseFloat64(buf, start, end) === NOT_A_VALUE) seen.float64 = false;
  // 1/0 parse as bool, but a column of only 1/0 is already int32; words are what make a bool column.
  if (seen.bool && parseBool(buf, start, end) === undefined) seen.bool = false;
  if (seen.timestamp && parseTimestamp(buf, start, end) === NOT_A_VALUE) seen.timestamp = false;
}

function decide(seen: Candidates): CsvType {
  if (seen.values === 0) return 'utf8';
  if (seen.int32) return 'int32';
  if (seen.float64) return 'float64';
  if (seen.bool) return 'bool';
  if (seen.timestamp) return 'timestamp';
  return 'utf8';
}

function applyDtypes(columns: CsvSchema['columns'], dtypes: Record<string, CsvType> | undefined, path: string): CsvSchema['columns'] {
  if (dtypes === undefined) return columns;
  const names = new Set(columns.map((column) => column.name));
  for (const [name, type] of Object.entries(dtypes)) {
    if (!names.has(name)) {
      throw new PartitionError('UNKNOWN_COLUMN', `dtypes names column ${JSON.stringify(name)}, which ${path} does not have; its columns are: ${[...names].join(', ')}`);
    }
    if (!CSV_TYPES.includes(type)) {
      throw new PartitionError('CSV_BAD_OPTIONS', `dtypes[${JSON.stringify(name)}] is ${JSON.stringify(type)}; CSV column types are ${CSV_TYPES.join(', ')}`);
    }
  }
  return columns.map((column) => ({ name: column.name, type: dtypes[column.name] ?? column.type }));
}
