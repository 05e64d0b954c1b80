// The typed error of the inference server. Each code has one HTTP status, so a handler throws and the server
// answers `{"error": message}` with that status (the Open Inference Protocol's error object); a client's mistake
// is always a 4xx, and only the server's own failures are 5xx.
export type ServeErrorCode =
  /** The body is not valid JSON, or not an inference request (a tensor named in the message). */
  | 'BAD_REQUEST'
  /** A missing or wrong `Authorization: Bearer` token. */
  | 'UNAUTHENTICATED'
  /** No such path. */
  | 'NOT_FOUND'
  | 'UNKNOWN_GROUP'
  | 'UNKNOWN_VERSION'
  /** Model ids the group's version does not hold (named in the message). */
  | 'UNKNOWN_MODEL'
  | 'METHOD_NOT_ALLOWED'
  /** The body is longer than `maxBodyBytes`. */
  | 'BODY_TOO_LARGE'
  /** A group version that alone needs more memory than `maxMemory`. */
  | 'OVER_MEMORY_BUDGET'
  /** A stored version that cannot be loaded or scored (corrupt file, a family that cannot be rebuilt). */
  | 'MODEL_UNAVAILABLE'
  /** Bad options to serve() or `loom serve`, or a bind beyond loopback without a token. */
  | 'BAD_OPTIONS'
  | 'INTERNAL';

const STATUS: Readonly<Record<ServeErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  UNKNOWN_GROUP: 404,
  UNKNOWN_VERSION: 404,
  UNKNOWN_MODEL: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  OVER_MEMORY_BUDGET: 503,
  MODEL_UNAVAILABLE: 500,
  BAD_OPTIONS: 500,
  INTERNAL: 500,
};

export class ServeError extends Error {
  override readonly name = 'ServeError';
  readonly code: ServeErrorCode;
  /** Extra response headers (`Allow` for 405, `WWW-Authenticate` for 401). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ServeErrorCode, message: string, options?: { headers?: Record<string, string>; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.headers = options?.headers ?? {};
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export function isServeError(error: unknown, code?: ServeErrorCode): error is ServeError {
  return error instanceof ServeError && (code === undefined || error.code === code);
}

/** A 400 about one tensor (or field) of the request, named first so the client sees what to fix. */
export function badInput(where: string, problem: string): ServeError {
  return new ServeError('BAD_REQUEST', `${where}: ${problem}`);
}
