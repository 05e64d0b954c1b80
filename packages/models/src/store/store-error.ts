// The typed error of the model store. `path` names the file or directory at fault, so a corrupt or foreign
// file can be found and removed by hand.
export type ModelStoreErrorCode =
  /** The directory exists, is not empty, and is not a model store (no marker file). */
  | 'NOT_A_STORE'
  /** A group or stage name that cannot be a directory name (see the README's naming rule). */
  | 'INVALID_NAME'
  | 'UNKNOWN_GROUP'
  | 'UNKNOWN_VERSION'
  /** The group has versions but none has been published as current. */
  | 'NO_CURRENT_VERSION'
  /** A file's checksum, size or row count differs from its manifest, or it does not decode as a store file. */
  | 'CORRUPT_FILE'
  /** Two records with one id in a version (within a batch, or across batches of one writer). */
  | 'DUPLICATE_MODEL'
  /** A record that cannot be stored: a missing id, a non-numeric metric, params that are not a Float64Array. */
  | 'INVALID_RECORD'
  /** The writer was published or aborted. */
  | 'WRITER_CLOSED'
  /** Another live process is writing the stage. */
  | 'STAGE_BUSY'
  /** publish() with no models: a current version must never go empty by accident. */
  | 'EMPTY_VERSION'
  | 'BAD_OPTIONS';

export class ModelStoreError extends Error {
  override readonly name = 'ModelStoreError';
  readonly code: ModelStoreErrorCode;
  /** The file or directory the error is about, when there is one. */
  readonly path: string | undefined;

  constructor(code: ModelStoreErrorCode, message: string, options?: { path?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options?.path;
  }
}

export function isModelStoreError(error: unknown, code?: ModelStoreErrorCode): error is ModelStoreError {
  return error instanceof ModelStoreError && (code === undefined || error.code === code);
}
