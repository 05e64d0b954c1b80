// Loom's typed errors. Every error that crosses the wire carries an ErrorCode from proto/loom/v1/loom.proto;
// here it becomes a string code on a LoomError, so callers can branch on `error.code` without protobuf enums.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { pb, type loom } from './wire.js';

export type LoomErrorCode =
  | 'TASK_FAILED'
  | 'KILLED_WORKER'
  | 'UNKNOWN_DEPENDENCY'
  | 'CYCLIC_GRAPH'
  | 'INVALID_GRAPH'
  | 'UNKNOWN_CLIENT'
  | 'UNAUTHENTICATED'
  | 'MESSAGE_TOO_LARGE'
  | 'FREE_VARIABLE'
  | 'FUNCTION_LOAD_FAILED'
  | 'SERIALIZATION_FAILED'
  | 'CANCELLED'
  | 'LOST_DATA'
  | 'NO_WORKER'
  | 'INTERNAL';

export interface LoomErrorDetails {
  /** The task whose function failed (for a dependent, the dependency that failed first). */
  taskKey?: string;
  /** The stack trace as the remote worker thread saw it. */
  remoteStack?: string;
  /** The remote error's class name, e.g. "TypeError". */
  errorName?: string;
  /** Address of the worker the error happened on. */
  worker?: string;
  /** The remote error's own `code` when it had a string one: a PartitionError's "CSV_BAD_LINE", Node's "ENOENT". */
  remoteCode?: string;
}

export class LoomError extends Error {
  override readonly name = 'LoomError';
  readonly code: LoomErrorCode;
  readonly taskKey: string | undefined;
  readonly remoteStack: string | undefined;
  readonly errorName: string | undefined;
  readonly worker: string | undefined;
  readonly remoteCode: string | undefined;

  constructor(code: LoomErrorCode, message: string, details: LoomErrorDetails = {}) {
    super(message);
    this.code = code;
    this.taskKey = details.taskKey;
    this.remoteStack = details.remoteStack;
    this.errorName = details.errorName;
    this.worker = details.worker;
    this.remoteCode = details.remoteCode;
    if (details.remoteStack) this.stack = `${this.name} [${code}]: ${message}\n--- remote stack ---\n${details.remoteStack}`;
  }
}

export function isLoomError(error: unknown, code?: LoomErrorCode): error is LoomError {
  return error instanceof LoomError && (code === undefined || error.code === code);
}

export function errorCodeToWire(code: LoomErrorCode): loom.v1.ErrorCode {
  return pb.ErrorCode[code];
}

export function errorCodeFromWire(code: loom.v1.ErrorCode | null | undefined): LoomErrorCode {
  const name = code == null ? undefined : pb.ErrorCode[code];
  return typeof name === 'string' && name !== 'ERROR_CODE_UNSPECIFIED' ? (name as LoomErrorCode) : 'INTERNAL';
}

export function taskErrorToWire(error: LoomError): loom.v1.ITaskError {
  return {
    code: errorCodeToWire(error.code),
    message: error.message,
    stack: error.remoteStack ?? '',
    errorName: error.errorName ?? '',
    taskKey: error.taskKey ?? '',
    worker: error.worker ?? '',
    remoteCode: error.remoteCode ?? '',
  };
}

export function taskErrorFromWire(error: loom.v1.ITaskError | null | undefined): LoomError {
  if (!error) return new LoomError('INTERNAL', 'error without details');
  const details: LoomErrorDetails = {};
  if (error.taskKey) details.taskKey = error.taskKey;
  if (error.stack) details.remoteStack = error.stack;
  if (error.errorName) details.errorName = error.errorName;
  if (error.worker) details.worker = error.worker;
  if (error.remoteCode) details.remoteCode = error.remoteCode;
  return new LoomError(errorCodeFromWire(error.code), error.message ?? '', details);
}

const ERROR_CODE_METADATA = 'loom-error-code';

const GRPC_STATUS_BY_CODE: Partial<Record<LoomErrorCode, status>> = {
  UNKNOWN_DEPENDENCY: status.INVALID_ARGUMENT,
  CYCLIC_GRAPH: status.INVALID_ARGUMENT,
  INVALID_GRAPH: status.INVALID_ARGUMENT,
  FUNCTION_LOAD_FAILED: status.INVALID_ARGUMENT,
  UNKNOWN_CLIENT: status.NOT_FOUND,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  MESSAGE_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  CANCELLED: status.CANCELLED,
};

/** A LoomError as a gRPC status, with the Loom code in trailing metadata. */
export function toServiceError(error: LoomError): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA, error.code);
  return { code: GRPC_STATUS_BY_CODE[error.code] ?? status.INTERNAL, details: error.message, metadata };
}

/** A failed gRPC call as a LoomError: the Loom code from metadata when the server set one. */
export function fromServiceError(error: unknown, context: string): LoomError {
  if (error instanceof LoomError) return error;
  const serviceError = error as Partial<ServiceError>;
  const named = serviceError.metadata?.get(ERROR_CODE_METADATA)[0];
  const details = serviceError.details ?? (error instanceof Error ? error.message : String(error));
  if (typeof named === 'string') return new LoomError(named as LoomErrorCode, details);
  switch (serviceError.code) {
    case status.UNAUTHENTICATED:
      return new LoomError('UNAUTHENTICATED', `${context}: ${details}`);
    case status.RESOURCE_EXHAUSTED:
      return new LoomError('MESSAGE_TOO_LARGE', `${context}: ${details}`);
    default:
      return new LoomError('INTERNAL', `${context}: ${details}`);
  }
}
