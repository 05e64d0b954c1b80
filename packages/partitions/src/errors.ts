// The typed error every partition function throws. The worker turns it into a TASK_FAILED task error whose
// message and errorName ('PartitionError') reach the client; `code` lets local callers branch without parsing.
export type PartitionErrorCode =
  | 'NO_FILES'
  | 'CSV_BAD_LINE'
  | 'CSV_BAD_OPTIONS'
  | 'UNKNOWN_COLUMN'
  | 'SCHEMA_MISMATCH'
  | 'PARQUET_UNSUPPORTED'
  | 'SQL_UNSUPPORTED'
  | 'BAD_VALUE'
  | 'UNSUPPORTED_TYPE'
  | 'USER_FUNCTION_FAILED';

export class PartitionError extends Error {
  override readonly name = 'PartitionError';
  readonly code: PartitionErrorCode;

  constructor(code: PartitionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
