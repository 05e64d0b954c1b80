// The rows of a task's batch that could not be trained or scored, and the columnar form its result carries them in.

export type RowFailure = [row: number, code: string, message: string];

/** A batch's failed rows in row order, as the three parallel columns its result carries. */
export function failureColumns(failures: RowFailure[]): { failedIndex: Uint32Array; failedCode: string[]; failedMessage: string[] } {
  failures.sort((a, b) => a[0] - b[0]);
  return {
    failedIndex: Uint32Array.from(failures, (failure) => failure[0]),
    failedCode: failures.map((failure) => failure[1]),
    failedMessage: failures.map((failure) => failure[2]),
  };
}
