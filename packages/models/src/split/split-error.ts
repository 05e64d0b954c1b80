// The one error readSplit throws: every problem found in a split spec, listed together so a user fixes the
// file once instead of once per problem. Each problem names where it is: row, slice id and column.
export type SplitErrorCode =
  /** The spec itself is wrong: columns, values, ranges, databases or files (see `problems`). */
  | 'INVALID_SPLIT'
  /** The split file could not be read as CSV (a malformed line, an unreadable file). */
  | 'UNREADABLE_SPLIT'
  /** readSplit's own options are wrong. */
  | 'BAD_OPTIONS';

export interface SplitProblem {
  /** Data row, counted from 1 (the header excluded); absent for problems of the header. */
  row?: number;
  /** The row's slice id, when it has one. */
  id?: string;
  /** The split column the problem is in. */
  column?: string;
  message: string;
}

/** How many problems an error's message lists; all of them are in `problems`. */
const LISTED_PROBLEMS = 20;

export class SplitError extends Error {
  override readonly name = 'SplitError';
  readonly code: SplitErrorCode;
  /** Every problem found, in row order (header problems first). */
  readonly problems: readonly SplitProblem[];

  constructor(code: SplitErrorCode, message: string, problems: readonly SplitProblem[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.problems = problems;
  }

  /** The error for a spec with problems: its message lists the first ones and counts the rest. */
  static invalid(source: string, problems: readonly SplitProblem[]): SplitError {
    const listed = problems.slice(0, LISTED_PROBLEMS).map((problem) => `  ${describeProblem(problem)}`);
    const more = problems.length > LISTED_PROBLEMS ? [`  ... and ${problems.length - LISTED_PROBLEMS} more`] : [];
    const noun = problems.length === 1 ? 'problem' : 'problems';
    return new SplitError('INVALID_SPLIT', [`${source}: ${problems.length} ${noun}`, ...listed, ...more].join('\n'), problems);
  }
}

export function isSplitError(error: unknown, code?: SplitErrorCode): error is SplitError {
  return error instanceof SplitError && (code === undefined || error.code === code);
}

/** "row 3 (id 'cpu-1'), column train_to: ..." */
export function describeProblem(problem: SplitProblem): string {
  const where: string[] = [];
  if (problem.row !== undefined) where.push(problem.id === undefined ? `row ${problem.row}` : `row ${problem.row} (id ${JSON.stringify(problem.id)})`);
  else where.push('header');
  if (problem.column !== undefined) where.push(`column ${problem.column}`);
  return `${where.join(', ')}: ${problem.message}`;
}
