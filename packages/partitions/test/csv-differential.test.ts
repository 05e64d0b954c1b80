// readCsvBlock against csv-parse, an independent and widely used CSV parser, over a seeded corpus of valid and
// malformed files (quotes, doubled quotes, CRLF, lone CR, byte-order marks, empty fields, blank lines, missing
// final newline, wrong field counts, non-ASCII, long fields), each read with a block boundary at every byte
// position. Where csv-parse accepts a file Loom must return its rows exactly; where it rejects it, every block
// that fails must name the place. LOOM_FUZZ_ITERATIONS (files, default 12) and LOOM_FUZZ_SEED widen the search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { parse, type CastingContext, type Options } from 'csv-parse/sync';
import { inferCsvSchema, PartitionError, planCsvBlocks, readCsvBlock, type CsvBlock, type CsvOptions, type CsvSchema, type CsvType } from '../src/index.js';
import { rowsOf, seededRandom, tempDir } from './helpers.js';

const dir = tempDir('csv-differential');
const ITERATIONS = Number(process.env['LOOM_FUZZ_ITERATIONS'] ?? 12);
// The default seed's first 12 files hold every kind the generator makes: valid, a wrong field count, an unclosed
// quote, text after a closing quote, quotes inside unquoted fields, a byte-order mark, no header.
const SEED = Number(process.env['LOOM_FUZZ_SEED'] ?? 20261329);
/** Two-block cuts tried per file, besides a boundary at every byte. */
const CUTS = 12;

type Fault = { kind: 'unclosed' | 'text-after-quote'; offset: number };

interface Generated {
  text: string;
  columns: number;
  delimiter: string;
  header: boolean;
  /**
   * Quotes inside unquoted fields (`5'10"`). Loom keeps them as characters, as Python's csv module does in strict
   * mode; csv-parse does so only with relax_quotes, which also lets text after a closing quote pass. So a file
   * either has them, and is compared under relax_quotes with no quoting fault in it, or has none and is compared
   * in csv-parse's strict mode.
   */
  literalQuotes: boolean;
  /** A quoting fault the generator put in: where Loom must say it is (csv-parse's own positions are not bytes). */
  fault?: Fault;
  /** Wrong field counts were put in (csv-parse's records say where). */
  countFault: boolean;
}

const PIECES = ['a', 'plain', '42', '-7', '3.25', 'héllo', '✓', '😀', '日本語', ' padded ', 'x y', 'é'];

function generate(seed: number): Generated {
  const rand = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const delimiter = pick([',', ',', ',', '\t', ';', '|']);
  const header = rand() < 0.8;
  const literalQuotes = rand() < 0.25;
  const columns = 1 + Math.floor(rand() * 4);
  const newlineStyle = pick(['lf', 'crlf', 'cr', 'mixed'] as const);
  const newline = (): string => (newlineStyle === 'mixed' ? pick(['\n', '\r\n', '\r']) : { lf: '\n', crlf: '\r\n', cr: '\r' }[newlineStyle]);

  const value = (): string | null => {
    const r = rand();
    if (r < 0.1) return null;
    if (r < 0.15) return '';
    const parts: string[] = [];
    const long = rand() < 0.03;
    const count = long ? 30 + Math.floor(rand() * 60) : 1 + Math.floor(rand() * 3);
    for (let i = 0; i < count; i++) {
      const s = rand();
      if (s < 0.08) parts.push(delimiter);
      else if (s < 0.16) parts.push('"');
      else if (s < 0.22) parts.push(pick(['\n', '\r', '\r\n']));
      else parts.push(pick(PIECES));
    }
    return parts.join('');
  };
  const encode = (text: string | null): string => {
    if (text === null) return '';
    const special = text.includes(delimiter) || /[\r\n]/.test(text) || text === '' || text.startsWith('"');
    const quoteInside = text.includes('"');
    if (special || (quoteInside && !literalQuotes) || rand() < 0.25) return `"${text.replaceAll('"', '""')}"`;
    return text; // possibly with quotes inside: kept as characters (literal-quote files only)
  };

  const rows: string[][] = [];
  if (header) rows.push(Array.from({ length: columns }, (_, c) => encode(pick([`c${c}`, `col ${c}`, `${delimiter}n${c}`, `ü${c}`, `"q${c}"`]))));
  const dataRows = Math.floor(rand() * 10);
  for (let r = 0; r < dataRows; r++) rows.push(Array.from({ length: columns }, () => encode(value())));

  let countFault = false;
  let faultPlan: { row: number; field: number; kind: Fault['kind'] } | undefined;
  const firstData = header ? 1 : 0;
  if (rows.length > firstData && rand() < 0.4) {
    const row = firstData + Math.floor(rand() * (rows.length - firstData));
    const kind = literalQuotes ? 'count' : pick(['count', 'count', 'text-after-quote', 'unclosed'] as const);
    const fields = rows[row] as string[];
    if (kind === 'count') {
      if (fields.length > 1 && rand() < 0.5) fields.pop();
      else fields.push(encode(value()));
      countFault = true;
    } else {
      faultPlan = { row, field: Math.floor(rand() * fields.length), kind };
    }
  }

  // Assemble, tracking byte offsets for the fault and dropping every quote after an unclosed one.
  const out: string[] = [];
  let bytes = 0;
  let stripQuotes = false;
  let fault: Fault | undefined;
  const emit = (piece: string): void => {
    const text = stripQuotes ? piece.replaceAll('"', '') : piece;
    out.push(text);
    bytes += Buffer.byteLength(text);
  };
  if (rand() < 0.2) emit('\ufeff');
  if (rand() < 0.15) emit(newline());
  rows.forEach((fields, r) => {
    fields.forEach((field, f) => {
      if (f > 0) emit(delimiter);
      if (faultPlan?.row === r && faultPlan.field === f) {
        const inner = field.startsWith('"') ? field.slice(1, -1) : field;
        if (faultPlan.kind === 'text-after-quote') {
          emit(`"${inner}"`);
          fault = { kind: 'text-after-quote', offset: bytes };
          emit(pick(['x', 'é', ' ']));
        } else {
          fault = { kind: 'unclosed', offset: bytes };
          emit('"');
          stripQuotes = true;
          emit(inner);
        }
      } else {
        emit(field);
      }
    });
    const last = r === rows.length - 1;
    if (!last || rand() < 0.7) emit(newline());
    if (rand() < 0.1) emit(newline()); // a blank line (or the LF of a CRLF, as csv-parse also reads it)
  });
  return { text: out.join(''), columns, delimiter, header, literalQuotes, countFault, ...(fault ? { fault } : {}) };
}

// ---- the reference: csv-parse ------------------------------------------------------------------------------

interface ReferenceRecord {
  values: Array<string | null>;
  /** Byte offset of the record's first byte. */
  start: number;
}

type Reference = { records: ReferenceRecord[] } | { code: string; lines: number };

/** csv-parse's options that state Loom's rules. */
function referenceOptions(file: Generated): Options {
  return {
    bom: true,
    delimiter: file.delimiter,
    // Loom ends rows at LF, CRLF or a lone CR; csv-parse's default would pick one kind from the first it sees.
    record_delimiter: ['\r\n', '\n', '\r'],
    // pandas' skip_blank_lines, which Loom follows; a line holding "" is a row, not a blank line, in both.
    skip_empty_lines: true,
    relax_quotes: file.literalQuotes,
    relax_column_count: true, // the records show where a count is wrong; the test decides what Loom does
    // csv-parse reads an empty field as "" either way; Loom reads an unquoted one as null.
    cast: (value: string, context: CastingContext) => (value === '' && !context.quoting ? null : value),
  };
}

function reference(bytes: Buffer, file: Generated): Reference {
  try {
    const parsed = parse(bytes, { ...referenceOptions(file), info: true }) as unknown as Array<{ record: Array<string | null>; info: { bytes: number } }>;
    let end = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    return {
      records: parsed.map(({ record, info }) => {
        // A record starts at its first byte after the previous one's end that is not a line ending (blank lines).
        let start = end;
        while (bytes[start] === 0x0a || bytes[start] === 0x0d) start++;
        end = info.bytes;
        return { values: record, start };
      }),
    };
  } catch (error) {
    const { code, lines } = error as { code: string; lines: number };
    return { code, lines };
  }
}

/** 1-based line of byte `offset`: LFs and lone CRs before it, plus one. */
function lineOf(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) line++;
  return line;
}

/** Column names: the header's (never given a fault, so csv-parse reads it even when the file is refused), or column0, ... */
function names(bytes: Buffer, file: Generated): string[] {
  if (!file.header) return Array.from({ length: file.columns }, (_, c) => `column${c}`);
  const [header] = parse(bytes, { ...referenceOptions(file), to: 1 }) as Array<Array<string | null>>;
  return (header ?? []).map((name) => name ?? '');
}

type Expected = { rows: Array<Array<string | null>>; skipped: number } | { error: { line: number; byte: number; reason: RegExp } };

function expected(bytes: Buffer, file: Generated, ref: Reference, mode: 'error' | 'skip'): Expected {
  if ('code' in ref) {
    // Only a fault the generator put in may make csv-parse refuse: anything else is a generator bug.
    assert.ok(file.fault, `csv-parse refused a file with no fault in it: ${ref.code}`);
    const codes = { unclosed: 'CSV_QUOTE_NOT_CLOSED', 'text-after-quote': 'CSV_INVALID_CLOSING_QUOTE' };
    assert.equal(ref.code, codes[file.fault.kind]);
    const line = lineOf(bytes, file.fault.offset);
    // csv-parse counts a CRLF inside a quoted field as two lines; elsewhere its line is the one Loom must name.
    if (file.fault.kind === 'text-after-quote' && !bytes.subarray(0, file.fault.offset).includes(0x0d)) {
      assert.equal(ref.lines, line, 'csv-parse places the text after the quote on the same line');
    }
    const reason = file.fault.kind === 'unclosed' ? /quoted field never closed/ : /text after the closing quote/;
    return { error: { line, byte: file.fault.offset, reason } };
  }
  assert.equal(file.fault, undefined, 'csv-parse accepted a file with a quoting fault in it');
  const [first, ...rest] = ref.records;
  const data = file.header ? rest : ref.records;
  const width = file.header ? (first?.values.length ?? 0) : file.columns;
  const wrong = data.filter((record) => record.values.length !== width);
  if (mode === 'error' && wrong.length > 0) {
    const at = (wrong[0] as ReferenceRecord).start;
    return { error: { line: lineOf(bytes, at), byte: at, reason: /expected \d+ fields, found \d+/ } };
  }
  return { rows: data.filter((record) => record.values.length === width).map((record) => record.values), skipped: wrong.length };
}

// ---- Loom, at every block boundary --------------------------------------------------------------------------

/**
 * A boundary at every byte position at once (1-byte blocks), 5-byte blocks, and the file cut in two at CUTS
 * positions (all of them in a small file), so that a block starting anywhere also reads on to the end.
 */
function plans(path: string, size: number, seed: number): CsvBlock[][] {
  const rand = seededRandom(seed);
  const positions = size - 1 <= CUTS ? Array.from({ length: size - 1 }, (_, i) => i + 1) : Array.from({ length: CUTS }, () => 1 + Math.floor(rand() * (size - 1)));
  const cuts = positions.map((at) => [
    { path, start: 0, end: at, index: 0 },
    { path, start: at, end: size, index: 1 },
  ]);
  return [planCsvBlocks([path], 1), planCsvBlocks([path], 5), ...cuts];
}

/** Every block read, as a cluster would (all at once), 64 at a time to stay within open-file limits. */
async function readAll(blocks: CsvBlock[], schema: CsvSchema, options: CsvOptions): Promise<Array<PromiseSettledResult<Table>>> {
  const results: Array<PromiseSettledResult<Table>> = [];
  for (let i = 0; i < blocks.length; i += 64) {
    results.push(...(await Promise.allSettled(blocks.slice(i, i + 64).map((block) => readCsvBlock(block, schema, options)))));
  }
  return results;
}

async function checkFile(seed: number, file: Generated): Promise<void> {
  const path = join(dir, `fuzz-${seed}.csv`);
  const bytes = Buffer.from(file.text, 'utf8');
  writeFileSync(path, bytes);
  const ref = reference(bytes, file);
  const modes = file.fault || file.countFault ? (['error', 'skip'] as const) : (['error'] as const);
  const columns = names(bytes, file);
  const schema: CsvSchema = { columns: columns.map((name) => ({ name, type: 'utf8' as CsvType })) };
  for (const mode of modes) {
    const want = expected(bytes, file, ref, mode);
    const options: CsvOptions = { delimiter: file.delimiter, header: file.header, onBadLines: mode };
    const where = (what: string): string => `onBadLines ${mode}, ${what}`;
    const matchesError = (error: unknown, what: string): void => {
      assert.ok('error' in want);
      assert.ok(error instanceof PartitionError, where(`${what}: ${String(error)}`));
      const prefix = `${path} line ${want.error.line} (byte ${want.error.byte}): `;
      assert.ok(error.message.startsWith(prefix) && want.error.reason.test(error.message), where(`${what}: expected "${prefix}..." (${want.error.reason}), got "${error.message}"`));
    };
    // Inference reads the same grammar over the whole (small) file: it fails exactly on broken quoting (a wrong
    // field count is the blocks' to report).
    const inferred = await inferCsvSchema(path, options).then((inferredSchema) => ({ schema: inferredSchema }), (error: unknown) => ({ error }));
    if ('error' in inferred) {
      assert.ok(file.fault, where(`inference failed: ${String(inferred.error)}`));
      matchesError(inferred.error, 'inference');
    } else {
      assert.equal(file.fault, undefined, where('inference passed over broken quoting'));
      // Without a header, inference names as many columns as the first row has.
      const first = 'records' in ref ? ref.records[0] : undefined;
      const inferredNames = file.header ? columns : Array.from({ length: first?.values.length ?? 0 }, (_, c) => `column${c}`);
      assert.deepEqual(inferred.schema.columns.map((c) => c.name), inferredNames, where('column names'));
    }
    for (const blocks of plans(path, bytes.length, seed)) {
      const cuts = blocks.length === 2 ? `blocks [0,${blocks[0]!.end}) [${blocks[1]!.start},${bytes.length})` : `${blocks.length} blocks`;
      const results = await readAll(blocks, schema, options);
      if ('rows' in want) {
        const rows: unknown[][] = [];
        let skipped = 0;
        for (const result of results) {
          if (result.status === 'rejected') assert.fail(where(`${cuts}: a block failed: ${String(result.reason)}`));
          rows.push(...rowsOf(result.value));
          skipped += Number(result.value.schema.metadata.get('loom.skipped_rows') ?? 0);
        }
        assert.deepEqual(rows, want.rows, where(cuts));
        assert.equal(skipped, mode === 'skip' ? want.skipped : 0, where(`${cuts}: skipped rows`));
      } else {
        const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
        assert.ok(failures.length > 0, where(`${cuts}: no block failed`));
        for (const failure of failures) matchesError(failure, cuts);
      }
    }
  }
}

test(`readCsvBlock agrees with csv-parse on ${ITERATIONS} generated files, a block boundary at every byte (seed ${SEED})`, async () => {
  let faults = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const file = generate(SEED + i);
    if (file.fault || file.countFault) faults++;
    try {
      await checkFile(SEED + i, file);
    } catch (error) {
      // The seed makes the file again: LOOM_FUZZ_SEED=<it> LOOM_FUZZ_ITERATIONS=1.
      if (error instanceof Error) error.message = `LOOM_FUZZ_SEED=${SEED + i} LOOM_FUZZ_ITERATIONS=1: ${error.message}\nfile ${JSON.stringify(file.text)}`;
      throw error;
    }
  }
  if (ITERATIONS >= 10) assert.ok(faults > 0 && faults < ITERATIONS, `the corpus holds both valid and malformed files (${faults} of ${ITERATIONS} malformed)`);
});

// ---- typed columns: inference and values against csv-parse's text, converted by JavaScript's own parsers ---------

const KINDS = ['int32', 'float64', 'bool', 'timestamp', 'utf8'] as const;

function typedFile(seed: number): { text: string; kinds: CsvType[] } {
  const rand = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const kinds: CsvType[] = Array.from({ length: 2 + Math.floor(rand() * 4) }, () => pick(KINDS));
  const valueOf = (kind: CsvType, row: number): string => {
    if (row > 0 && rand() < 0.1) return ''; // null (not in the first row: a one-column file would take it for a blank line)
    switch (kind) {
      case 'int32':
        return String(pick([0, 7, -42, 2147483647, -2147483648, Math.floor(rand() * 1e6) - 5e5]));
      case 'float64':
        return row === 0 ? '0.5' : pick(['1.25', '-0.001', '1e3', '3', '.5', '6.02e23', String(rand() * 1000 - 500)]);
      case 'bool':
        return pick(['true', 'false', 'TRUE', 'False']);
      case 'timestamp':
        return pick(['2024-02-29', '1999-12-31T23:59:59.123Z', '2024-01-01T10:00:00+05:30', '0050-06-01', '2100-03-01T00:00Z', '1969-07-20T20:17:40-04:00']);
      default:
        return pick(['a', 'b c', 'héllo', '12a', 'x,y', 'say "hi"']);
    }
  };
  const encode = (value: string): string => (/[",\n]/.test(value) || (value !== '' && rand() < 0.2) ? `"${value.replaceAll('"', '""')}"` : value);
  const lines = [kinds.map((_, c) => `k${c}`).join(',')];
  for (let row = 0; row < 12; row++) lines.push(kinds.map((kind) => encode(valueOf(kind, row))).join(','));
  return { text: lines.join(pick(['\n', '\r\n'])) + '\n', kinds };
}

function convert(kind: CsvType, text: string | null): unknown {
  if (text === null) return null;
  switch (kind) {
    case 'int32':
    case 'float64':
      return Number(text);
    case 'bool':
      return text.toLowerCase() === 'true';
    case 'timestamp':
      return Date.parse(text); // ISO dates, and date-times with a zone: both UTC-exact in ECMAScript
    default:
      return text;
  }
}

test('typed columns: inference finds each generated type; values equal csv-parse text read by JS parsers', async () => {
  for (let i = 0; i < 6; i++) {
    const seed = SEED + 7919 * (i + 1);
    const { text, kinds } = typedFile(seed);
    const path = join(dir, `typed-${seed}.csv`);
    writeFileSync(path, text);
    const file: Generated = { text, columns: kinds.length, delimiter: ',', header: true, literalQuotes: false, countFault: false };
    const ref = reference(Buffer.from(text), file);
    assert.ok('records' in ref);
    const schema = await inferCsvSchema(path);
    assert.deepEqual(schema.columns.map((c) => c.type), kinds, `seed ${seed}: inferred types`);
    const want = ref.records.slice(1).map((record) => record.values.map((value, c) => convert(kinds[c] as CsvType, value)));
    for (const blocksize of [1, 1 << 20]) {
      const tables = await Promise.all(planCsvBlocks([path], blocksize).map((block) => readCsvBlock(block, schema)));
      assert.deepEqual(tables.flatMap(rowsOf), want, `seed ${seed}, blocksize ${blocksize}: values; file ${JSON.stringify(text)}`);
    }
  }
});
