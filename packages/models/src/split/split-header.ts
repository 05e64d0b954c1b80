// Checking a split spec's header: which shape it is (database rows or file rows), which columns it lacks,
// and which of its other columns are passed through. A column that looks like a misspelt spec column
// ("train_form", "ID") is reported instead of passed through: silently treating it as extra data would leave
// the spec column missing for a reason the user cannot see.
import type { SplitShape } from './split.js';
import type { SplitProblem } from './split-error.js';

export const RANGE_COLUMNS = ['train_from', 'train_to', 'test_from', 'test_to'] as const;
export type RangeColumn = (typeof RANGE_COLUMNS)[number];

const REQUIRED: Record<SplitShape, readonly string[]> = {
  database: ['id', 'database', 'table', 'column', ...RANGE_COLUMNS],
  file: ['id', 'file', ...RANGE_COLUMNS],
};
const OPTIONAL: Record<SplitShape, readonly string[]> = { database: [], file: ['column'] };
const SPEC_COLUMNS: ReadonlySet<string> = new Set([...REQUIRED.database, ...REQUIRED.file]);

export interface SplitHeader {
  /** Undefined when the header does not say (neither or both of `database` and `file`). */
  shape: SplitShape | undefined;
  /** Spec columns the header has, usable by the row checks even when the shape is unknown. */
  present: ReadonlySet<string>;
  extraColumns: string[];
  problems: SplitProblem[];
}

/**
 * `passThrough`, when given, is the complete list of extra columns allowed; any other column is unknown.
 * Without it every column that is not a spec column (or a near miss of a missing one) is passed through.
 */
export function checkHeader(columns: readonly string[], passThrough?: readonly string[]): SplitHeader {
  const problems: SplitProblem[] = [];
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const name of columns) {
    // The partitions CSV reader renames a repeated header name to `name.1`, `name.2` (as pandas does).
    const repeated = /^(.*)\.\d+$/.exec(name)?.[1];
    if (seen.has(name) || (repeated !== undefined && SPEC_COLUMNS.has(repeated) && columns.includes(repeated))) {
      problems.push({ column: repeated ?? name, message: 'column appears more than once' });
      continue;
    }
    seen.add(name);
    unique.push(name);
  }

  let shape: SplitShape | undefined;
  if (seen.has('database') && seen.has('file')) {
    problems.push({ column: 'file', message: "a split holds database rows (database, table, column) or file rows (file), not both: it has both a 'database' and a 'file' column" });
  } else if (seen.has('database')) shape = 'database';
  else if (seen.has('file')) shape = 'file';
  else problems.push({ message: "no 'database' or 'file' column: each row must name its source, a database table (database, table, column) or a file (file)" });

  const required = shape === undefined ? ['id', ...RANGE_COLUMNS] : REQUIRED[shape];
  const missing = required.filter((name) => !seen.has(name));
  for (const name of missing) problems.push({ column: name, message: 'missing column' });

  const allowed = new Set([...required, ...(shape === undefined ? [] : OPTIONAL[shape])]);
  const extraColumns: string[] = [];
  for (const name of unique) {
    if (allowed.has(name) || (shape === undefined && SPEC_COLUMNS.has(name))) continue;
    if (name === '__proto__') {
      problems.push({ column: name, message: 'a column may not be named __proto__' });
      continue;
    }
    if (SPEC_COLUMNS.has(name)) {
      problems.push({ column: name, message: `'${name}' is a column of database rows, and this split has file rows` });
      continue;
    }
    const meant = missing.find((spec) => looksLike(name, spec));
    if (meant !== undefined) problems.push({ column: name, message: `unknown column (did you mean '${meant}'?)` });
    else if (passThrough !== undefined && !passThrough.includes(name)) problems.push({ column: name, message: 'unknown column (not in passThrough)' });
    else extraColumns.push(name);
  }
  return { shape, present: new Set(unique.filter((name) => SPEC_COLUMNS.has(name))), extraColumns, problems };
}

/** A misspelling: the same name up to case, spaces, dashes, or an edit distance of at most two. */
function looksLike(name: string, spec: string): boolean {
  const normal = name.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return normal === spec || editDistance(normal, spec) <= Math.min(2, spec.length - 1);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitute, (previous[j] as number) + 1, (current[j - 1] as number) + 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
