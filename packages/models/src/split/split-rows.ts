// Checking a split spec's rows and turning them into slices: ids present and unique, sources named, range
// bounds parsed, each range ordered, train and test disjoint. Databases and files are checked afterwards
// (resolve-sources.ts), once per distinct name. Every problem is collected; none stops the others.
import { DataType, type Vector } from 'apache-arrow';
import { parseRangeText, formatRangeValue, type RangeKind, type RangeValue } from './range-value.js';
import { RANGE_COLUMNS, type RangeColumn, type SplitHeader } from './split-header.js';
import type { SplitSlice, SliceSource, TimeRange } from './split.js';
import type { SplitProblem } from './split-error.js';
import type { SourcedRows } from './resolve-sources.js';
import { TextCells } from './text-cells.js';

export interface CheckedRows {
  /** One per row that passed every row check; a row with a problem has none. */
  slices: SplitSlice[];
  /** Every row that names a source, by source, for the source checks (which report on rows with other problems too). */
  sourced: SourcedRows[];
  problems: SplitProblem[];
}

export interface RowCheckOptions {
  header: SplitHeader;
  timeColumn: string;
  /** Resolves a file row's path (relative paths against the split file's directory). */
  resolveFile: (file: string) => string;
}

/** `columns` are the split's columns by name; `numRows` their length. */
export function checkRows(columns: ReadonlyMap<string, Vector>, numRows: number, options: RowCheckOptions): CheckedRows {
  const { header } = options;
  const vector = (name: string): Vector | undefined => (header.present.has(name) ? columns.get(name) : undefined);
  const column = (name: string): Cells | undefined => cellsOf(vector(name));
  const ids = column('id');
  const rangeVectors = RANGE_COLUMNS.map((name) => vector(name));
  const ranges = rangeVectors.map((range) => cellsOf(range));
  const database = header.shape === 'database' ? column('database') : undefined;
  const tableName = header.shape === 'database' ? column('table') : undefined;
  const file = header.shape === 'file' ? column('file') : undefined;
  const valueColumn = column('column');
  const extras = header.extraColumns.map((name) => [name, cellsOf(columns.get(name))] as const);

  const slices: SplitSlice[] = [];
  const sourced = new Map<string, SourcedRows>();
  const nameSource = (row: number, id: string | undefined, named: { database: string } | { file: string }, key: string): void => {
    let rows = sourced.get(key);
    if (rows === undefined) sourced.set(key, (rows = { ...named, rows: [], ids: [] }));
    rows.rows.push(row);
    rows.ids.push(id);
  };
  const problems: SplitProblem[] = [];
  const firstRowOf = new Map<string, number>();
  // Splits name few sources and few distinct bounds over many rows: one source object per source (shared by
  // its slices) and one parse per distinct bound text.
  const sources = new Map<string, { source: SliceSource; key: string }>();
  const sourceOf = (lookup: string, make: () => SliceSource): { source: SliceSource; key: string } => {
    let known = sources.get(lookup);
    if (known === undefined) {
      const source = make();
      known = { source, key: JSON.stringify(source.kind === 'file' ? ['file', source.file] : ['database', source.database, source.table]) };
      sources.set(lookup, known);
    }
    return known;
  };
  const parsedBounds = new Map<string, RangeValue | string>();
  // Consecutive rows mostly share their bounds and extra columns: such rows share one frozen range and extra
  // object, as a source's slices share one source object (an object per row was most of readSplit's time).
  const noExtra: Readonly<Record<string, string>> = Object.freeze({});
  const shared = { trainRange: Object.freeze({ from: NaN, to: NaN }) as TimeRange, testRange: Object.freeze({ from: NaN, to: NaN }) as TimeRange, extra: noExtra };
  /** The extra cells of the row `shared.extra` was made for. */
  const sharedExtras: Array<string | undefined> = extras.map(() => undefined);
  for (let i = 0; i < numRows; i++) {
    const row = i + 1;
    const id = ids === undefined ? undefined : textOf(ids(i));
    const rowProblems: SplitProblem[] = [];
    const problem = (columnName: string, message: string): void => {
      rowProblems.push(id === undefined ? { row, column: columnName, message } : { row, id, column: columnName, message });
    };
    if (ids !== undefined) {
      if (id === undefined) problem('id', 'missing value');
      else {
        const first = firstRowOf.get(id);
        if (first !== undefined) problem('id', `duplicate id (first at row ${first})`);
        else firstRowOf.set(id, row);
      }
    }
    const required = (cells: Cells | undefined, name: string): string | undefined => {
      if (cells === undefined) return undefined;
      const text = textOf(cells(i));
      if (text === undefined) problem(name, 'missing value');
      return text;
    };
    let source: SliceSource | undefined;
    let sourceKey = '';
    if (header.shape === 'database') {
      const db = required(database, 'database');
      const tbl = required(tableName, 'table');
      if (db !== undefined) nameSource(row, id, { database: db }, `d\u0000${db}`);
      if (db !== undefined && tbl !== undefined) {
        ({ source, key: sourceKey } = sourceOf(`d\u0000${db}\u0000${tbl}`, () => ({ kind: 'database', database: db, table: tbl })));
      }
    } else if (header.shape === 'file') {
      const path = required(file, 'file');
      if (path !== undefined) {
        ({ source, key: sourceKey } = sourceOf(`f\u0000${path}`, () => ({ kind: 'file', file: options.resolveFile(path) })));
        nameSource(row, id, { file: (source as { file: string }).file }, sourceKey);
      }
    }
    const value = header.shape === 'database' ? required(valueColumn, 'column') : valueColumn === undefined ? undefined : textOf(valueColumn(i));
    if (value !== undefined && value === options.timeColumn) problem('column', `names the time column '${options.timeColumn}'; it must name a value column`);

    const bounds = ranges.map((cells, c) => {
      if (cells === undefined) return undefined;
      const parsed = rangeValueOf((rangeVectors[c] as Vector).type, cells(i), parsedBounds);
      if (typeof parsed === 'string') {
        problem(RANGE_COLUMNS[c] as RangeColumn, parsed);
        return undefined;
      }
      return parsed;
    });
    const rangeKind = checkRanges(bounds, problem);

    if (rowProblems.length > 0) {
      problems.push(...rowProblems);
      continue;
    }
    if (id === undefined || source === undefined || rangeKind === undefined) continue; // header problems: reported there
    const [trainFrom, trainTo, testFrom, testTo] = (bounds as RangeValue[]) as [RangeValue, RangeValue, RangeValue, RangeValue];
    const { trainRange, testRange } = shared;
    if (trainRange.from !== trainFrom.value || trainRange.to !== trainTo.value || testRange.from !== testFrom.value || testRange.to !== testTo.value) {
      shared.trainRange = Object.freeze({ from: trainFrom.value, to: trainTo.value });
      shared.testRange = Object.freeze({ from: testFrom.value, to: testTo.value });
    }
    let extrasChanged = false;
    for (let e = 0; e < extras.length; e++) {
      const cells = (extras[e] as (typeof extras)[number])[1];
      const text = cells === undefined ? undefined : textOf(cells(i), false);
      if (text !== sharedExtras[e]) extrasChanged = true;
      sharedExtras[e] = text;
    }
    if (extrasChanged) {
      const extra: Record<string, string> = {};
      extras.forEach(([name], e) => {
        if (sharedExtras[e] !== undefined) extra[name] = sharedExtras[e] as string;
      });
      shared.extra = Object.freeze(extra);
    }
    slices.push({ id, row, source, sourceKey, column: value, rangeKind, trainRange: shared.trainRange, testRange: shared.testRange, extra: shared.extra });
  }
  return { slices: checkSourceKinds(slices, problems), sourced: [...sourced.values()], problems };
}

/** One source has one time column, so its slices' bounds are all timestamps or all numbers (the first row's). */
function checkSourceKinds(slices: SplitSlice[], problems: SplitProblem[]): SplitSlice[] {
  const kindOf = new Map<string, SplitSlice>();
  return slices.filter((slice) => {
    const first = kindOf.get(slice.sourceKey);
    if (first === undefined) kindOf.set(slice.sourceKey, slice);
    else if (first.rangeKind !== slice.rangeKind) {
      const message = `bounds are ${slice.rangeKind === 'timestamp' ? 'timestamps' : 'numbers'}, but row ${first.row} of the same source gives ${first.rangeKind === 'timestamp' ? 'timestamps' : 'numbers'}`;
      problems.push({ row: slice.row, id: slice.id, column: 'train_from', message });
      return false;
    }
    return true;
  });
}

/** Kinds agree, each range is ordered, train and test are disjoint; the row's range kind when all hold. */
function checkRanges(bounds: Array<RangeValue | undefined>, problem: (column: string, message: string) => void): RangeKind | undefined {
  if (bounds.some((bound) => bound === undefined)) return undefined;
  const [trainFrom, trainTo, testFrom, testTo] = bounds as RangeValue[] as [RangeValue, RangeValue, RangeValue, RangeValue];
  const kind = trainFrom.kind;
  const odd = RANGE_COLUMNS.find((_, c) => (bounds[c] as RangeValue).kind !== kind);
  if (odd !== undefined) {
    problem(odd, `is a ${kindName(kind === 'timestamp' ? 'number' : 'timestamp')} while train_from is a ${kindName(kind)}; a row's bounds are all timestamps or all numbers`);
    return undefined;
  }
  const train: TimeRange = { from: trainFrom.value, to: trainTo.value };
  const test: TimeRange = { from: testFrom.value, to: testTo.value };
  const show = (range: TimeRange): string => `[${formatRangeValue(range.from, kind)}, ${formatRangeValue(range.to, kind)})`;
  let ordered = true;
  if (train.from > train.to) {
    problem('train_to', `train_to ${formatRangeValue(train.to, kind)} is before train_from ${formatRangeValue(train.from, kind)}`);
    ordered = false;
  }
  if (test.from > test.to) {
    problem('test_to', `test_to ${formatRangeValue(test.to, kind)} is before test_from ${formatRangeValue(test.from, kind)}`);
    ordered = false;
  }
  // Ranges are half-open, so a test range may start exactly where the train range ends.
  if (ordered && train.from < test.to && test.from < train.to) {
    problem('test_from', `the train range ${show(train)} and the test range ${show(test)} overlap`);
    return undefined;
  }
  return ordered ? kind : undefined;
}

function kindName(kind: RangeKind): string {
  return kind === 'timestamp' ? 'timestamp' : 'number';
}

/** A column's cell i: text cells through TextCells (one string per distinct run), others as Arrow gives them. */
type Cells = (i: number) => unknown;

function cellsOf(vector: Vector | undefined): Cells | undefined {
  if (vector === undefined) return undefined;
  const texts = TextCells.of(vector);
  return texts === undefined ? (i) => vector.get(i) : (i) => texts.get(i);
}

/** A range bound from an Arrow cell: timestamp and date columns are timestamps, numeric columns numbers. */
function rangeValueOf(type: DataType, cell: unknown, parsed: Map<string, RangeValue | string>): RangeValue | string {
  if (cell === null || cell === undefined) return 'missing value';
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return { kind: 'timestamp', value: Number(cell) };
  if (typeof cell === 'number') return Number.isFinite(cell) ? { kind: 'number', value: cell } : `not a finite number: ${cell}`;
  if (typeof cell === 'bigint') {
    return Number.isSafeInteger(Number(cell)) ? { kind: 'number', value: Number(cell) } : `integer ${cell} is too large to be exact as a double`;
  }
  if (typeof cell === 'string') {
    let value = parsed.get(cell);
    if (value === undefined) parsed.set(cell, (value = parseRangeText(cell)));
    return value;
  }
  return `not a timestamp or a number: ${String(cell)}`;
}

/** A text cell, or undefined for a missing one (null, or blank when `blankIsMissing`). */
function textOf(cell: unknown, blankIsMissing = true): string | undefined {
  if (cell === null || cell === undefined) return undefined;
  const text = typeof cell === 'string' ? cell : String(cell);
  return blankIsMissing && text.trim() === '' ? undefined : text;
}
