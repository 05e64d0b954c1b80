// The CSV options, column types and schema shared by planning, inference and block reading, and the one
// place options are validated and defaulted.
import { PartitionError } from './errors.js';

export type CsvType = 'int32' | 'float64' | 'bool' | 'utf8' | 'timestamp';

export interface CsvOptions {
  /** One-byte field separator; default ','. */
  delimiter?: string;
  /** First line names the columns; default true. */
  header?: boolean;
  /**
   * Default 'error': a malformed row (wrong field count, a value not of its type) fails the task. 'skip' drops it
   * and counts it in `loom.skipped_rows`. Broken quoting (a quote never closed, text after a closing quote) fails
   * the task in either mode: no row boundary after it can be trusted.
   */
  onBadLines?: 'error' | 'skip';
  /** Column types by name, overriding inference. */
  dtypes?: Record<string, CsvType>;
  /** Bytes of the first file sampled to infer types; default 256 KiB. */
  sampleBytes?: number;
}

export interface CsvSchema {
  columns: Array<{ name: string; type: CsvType }>;
}

export const CSV_TYPES: readonly CsvType[] = ['int32', 'float64', 'bool', 'utf8', 'timestamp'];

export interface ResolvedCsvOptions {
  delimiter: number;
  header: boolean;
  onBadLines: 'error' | 'skip';
  sampleBytes: number;
}

export function resolveCsvOptions(options: CsvOptions = {}): ResolvedCsvOptions {
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter.charCodeAt(0) > 127 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new PartitionError('CSV_BAD_OPTIONS', `CSV delimiter must be one ASCII character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const onBadLines = options.onBadLines ?? 'error';
  if (onBadLines !== 'error' && onBadLines !== 'skip') {
    throw new PartitionError('CSV_BAD_OPTIONS', `onBadLines must be 'error' or 'skip', got ${JSON.stringify(onBadLines)}`);
  }
  return { delimiter: delimiter.charCodeAt(0), header: options.header ?? true, onBadLines, sampleBytes: options.sampleBytes ?? 256 * 1024 };
}
