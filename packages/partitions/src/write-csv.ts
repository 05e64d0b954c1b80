// Writing one partition as a CSV file: a header, then one line per row, quoted as RFC 4180 says (a field with
// the delimiter, a quote, CR or LF is enclosed in quotes, its quotes doubled). Values are written so that
// Loom's readCsv (and pandas) read them back: null is an empty field and an empty string a quoted one, floats
// keep a decimal point, timestamps are ISO 8601 in UTC, dates YYYY-MM-DD.
import { TimeUnit, type Table } from 'apache-arrow';
import { PartitionError } from './errors.js';
import { NANOS_PER_UNIT, writeColumns, type WriteColumn } from './write-columns.js';
import { schemaMetadata, writePartitionFile, type FileWriteTarget, type PartitionFile } from './write-files.js';

export interface CsvWriteOptions {
  /** One ASCII character other than a quote, CR or LF; default ','. */
  delimiter?: string;
  /** Write the column names as the first line; default true. */
  header?: boolean;
  /** '\n' (default) or '\r\n' (RFC 4180's own). */
  lineTerminator?: '\n' | '\r\n';
}

/** Text is flushed to the file in pieces of about this many characters, so memory stays bounded. */
const FLUSH_CHARS = 1 << 20;

/** Writes `table` as `target`'s part file (worker side; one task per partition). */
export async function writeCsvPartition(table: Table, target: FileWriteTarget, options: CsvWriteOptions = {}): Promise<PartitionFile> {
  const { delimiter, header, lineTerminator } = resolveCsvWriteOptions(options);
  const columns = writeColumns(table, 'toCsv');
  const binary = columns.find((column) => column.kind === 'binary');
  if (binary !== undefined) {
    throw new PartitionError('UNSUPPORTED_TYPE', `toCsv: column ${JSON.stringify(binary.name)} is binary, which CSV cannot hold; encode it as text first (base64, hex) or write Parquet`);
  }
  const field = (text: string): string => (needsQuotes(text, delimiter) ? `"${text.replaceAll('"', '""')}"` : text);
  const formats = columns.map((column) => formatter(column));
  return writePartitionFile(target, 'csv', schemaMetadata(table), async (handle) => {
    let text = header ? columns.map((column) => field(column.name)).join(delimiter) + lineTerminator : '';
    for (let row = 0; row < table.numRows; row++) {
      for (let c = 0; c < columns.length; c++) {
        if (c > 0) text += delimiter;
        const value = (columns[c] as WriteColumn).at(row);
        if (value !== null) text += field((formats[c] as (value: unknown) => string)(value));
      }
      text += lineTerminator;
      if (text.length >= FLUSH_CHARS) {
        await handle.write(text);
        text = '';
      }
    }
    if (text.length > 0) await handle.write(text);
    return table.numRows;
  });
}

export function resolveCsvWriteOptions(options: CsvWriteOptions): Required<CsvWriteOptions> {
  const { delimiter = ',', header = true, lineTerminator = '\n' } = options;
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 127 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new PartitionError('CSV_BAD_OPTIONS', `CSV delimiter must be one ASCII character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  if (lineTerminator !== '\n' && lineTerminator !== '\r\n') {
    throw new PartitionError('CSV_BAD_OPTIONS', `lineTerminator must be '\\n' or '\\r\\n', got ${JSON.stringify(lineTerminator)}`);
  }
  return { delimiter, header, lineTerminator };
}

/** The text of one non-null value of the column. */
function formatter(column: WriteColumn): (value: unknown) => string {
  switch (column.kind) {
    case 'float':
      return (value) => floatText(value as number);
    case 'date':
      return (value) => new Date((value as number) * 86_400_000).toISOString().slice(0, 10);
    case 'timestamp': {
      const zone = column.timezone === undefined ? '' : 'Z';
      return (value) => timestampText(value as bigint, column.unit) + zone;
    }
    default:
      return (value) => String(value);
  }
}

/** Shortest round-trip text, with '.0' on integral values so that a reader infers a float column again. */
export function floatText(value: number): string {
  const text = String(value);
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}

/** An empty string is quoted too: an empty field unquoted is null. */
function needsQuotes(text: string, delimiter: string): boolean {
  return text === '' || text.includes(delimiter) || text.includes('"') || text.includes('\n') || text.includes('\r');
}

/** ISO 8601 without a zone: seconds, then as many fraction digits as the unit has (none, 3, 6 or 9). */
function timestampText(value: bigint, unit: TimeUnit): string {
  const nanos = value * NANOS_PER_UNIT[unit];
  const millis = floorDiv(nanos, 1_000_000n);
  const iso = new Date(Number(millis)).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  if (unit === TimeUnit.SECOND) return iso.slice(0, 19);
  if (unit === TimeUnit.MILLISECOND) return iso.slice(0, 23);
  const belowMilli = nanos - millis * 1_000_000n; // 0 .. 999,999 ns
  return iso.slice(0, 23) + (unit === TimeUnit.MICROSECOND ? String(belowMilli / 1000n).padStart(3, '0') : String(belowMilli).padStart(6, '0'));
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
