// Typed errors of the ML engine. Callers (the worker running a training task, the client) branch on `code`;
// the worker wraps these as TASK_FAILED on the wire, so the codes stay local to @loom/ml.
export type MlErrorCode =
  /** Shapes or dtypes of values handed to a graph op do not fit together. */
  | 'SHAPE_MISMATCH'
  /** An op on the path from the loss to a parameter has no gradient rule (or lacks what its rule needs). */
  | 'NO_GRADIENT'
  /** An argument is outside what the API accepts (unknown name, wrong length, bad option). */
  | 'INVALID_ARGUMENT'
  /** The requested execution provider (e.g. CUDA) is not available in this onnxruntime build or machine. */
  | 'PROVIDER_UNAVAILABLE'
  /** A checkpoint or weight set does not belong to this model or optimizer. */
  | 'CHECKPOINT_MISMATCH'
  /** onnxruntime rejected a model or failed while running it. */
  | 'RUNTIME_FAILED';

export class MlError extends Error {
  override readonly name = 'MlError';
  readonly code: MlErrorCode;

  constructor(code: MlErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isMlError(error: unknown, code?: MlErrorCode): error is MlError {
  return error instanceof MlError && (code === undefined || error.code === code);
}
