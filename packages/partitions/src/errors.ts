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
  | 'USER_FUNCTION_FAILED'
  // Writers: the destination directory cannot be made or written; it already holds data (no `overwrite`), or the
  // table exists (`ifExists: 'fail'`); the table is missing and `create` is off; a staging table lost rows.
  | 'WRITE_UNWRITABLE'
  | 'WRITE_TARGET_EXISTS'
  | 'WRITE_TABLE_MISSING'
  | 'WRITE_STAGING_LOST'
  // Snowflake: the login was refused (no credential in the message); a SQL error (Snowflake's code, SQL state,
  // query id); the query was cancelled; any other failure of the service or the driver.
  | 'SNOWFLAKE_AUTH'
  | 'SNOWFLAKE_SQL'
  | 'SNOWFLAKE_CANCELLED'
  | 'SNOWFLAKE_FAILED';

export class PartitionError extends Error {
  override readonly name = 'PartitionError';
  readonly code: PartitionErrorCode;

  constructor(code: PartitionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
