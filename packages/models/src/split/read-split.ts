// readSplit: a split spec from a CSV file or an Arrow table, validated whole before any training starts.
// The CSV is read with @loom/partitions' reader, every column as text, so the range bounds are parsed here
// by one strict parser whatever the input; an Arrow table may also give them as numbers or timestamps.
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Table, type Vector } from 'apache-arrow';
import { inferCsvSchema, readCsvBlock, type CsvSchema } from '@loom/partitions';
import { resolveSources, type Connections } from './resolve-sources.js';
import { Split } from './split.js';
import { SplitError } from './split-error.js';
import { checkHeader } from './split-header.js';
import { checkRows } from './split-rows.js';

export interface ReadSplitOptions {
  /** Name of the time column in every source; default 'ts'. */
  timeColumn?: string;
  /** Database name to connection string. Without it, database names are not checked. */
  connections?: Connections;
  /** Directory relative file paths resolve against; default the split file's directory (the cwd for a table). */
  baseDir?: string;
  /** The only extra columns allowed; default: every column that is not a spec column passes through. */
  passThrough?: readonly string[];
}

export async function readSplit(pathOrTable: string | Table, options: ReadSplitOptions = {}): Promise<Split> {
  const timeColumn = options.timeColumn ?? 'ts';
  if (typeof timeColumn !== 'string' || timeColumn === '') throw new SplitError('BAD_OPTIONS', `timeColumn must be a non-empty string, got ${JSON.stringify(timeColumn)}`);
  const fromFile = typeof pathOrTable === 'string';
  if (!fromFile && !(pathOrTable instanceof Table)) throw new SplitError('BAD_OPTIONS', 'readSplit takes a path to a split CSV file or an Arrow table');
  const origin = fromFile ? pathOrTable : 'Arrow table';
  const table = fromFile ? await readSplitCsv(pathOrTable) : pathOrTable;
  const baseDir = resolve(options.baseDir ?? (fromFile ? dirname(resolve(pathOrTable)) : process.cwd()));

  // A spreadsheet's byte-order mark would otherwise become part of the first column's name.
  const names = table.schema.fields.map((field) => field.name.replace(/^\uFEFF/, ''));
  const columns = new Map<string, Vector>();
  names.forEach((name, c) => {
    const vector = table.getChildAt(c);
    if (vector !== null && !columns.has(name)) columns.set(name, vector);
  });
  const header = checkHeader(names, options.passThrough);
  const resolveFile = (file: string): string => (isAbsolute(file) ? file : resolve(baseDir, file));
  const rows = checkRows(columns, table.numRows, { header, timeColumn, resolveFile });
  const sources = await resolveSources(rows.sourced, options.connections);
  const problems = [...header.problems, ...rows.problems, ...sources.problems].sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
  if (problems.length === 0 && table.numRows === 0) problems.push({ message: 'the split has no rows' });
  if (problems.length > 0) throw SplitError.invalid(origin, problems);
  // Slices of one source share its source object, so this sets each source's connection once for all of them.
  for (const { source } of rows.slices) {
    const connection = source.kind === 'database' ? sources.connections.get(source.database) : undefined;
    if (connection !== undefined && source.kind === 'database') source.connection = connection;
  }
  return new Split({ shape: header.shape ?? 'file', timeColumn, slices: rows.slices, extraColumns: header.extraColumns, origin });
}

/** The split file as a table of text columns; a malformed line is an error naming it. */
async function readSplitCsv(path: string): Promise<Table> {
  try {
    const { size } = await stat(path);
    if (size === 0) throw new Error('the file is empty');
    const inferred = await inferCsvSchema(path);
    const text: CsvSchema = { columns: inferred.columns.map((column) => ({ name: column.name, type: 'utf8' })) };
    return await readCsvBlock({ path, start: 0, end: size, index: 0 }, text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SplitError('UNREADABLE_SPLIT', reason.includes(path) ? `cannot read split: ${reason}` : `cannot read split ${path}: ${reason}`, [], { cause: error });
  }
}
