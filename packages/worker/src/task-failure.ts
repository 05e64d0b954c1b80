// Turns whatever a task threw into the error the scheduler and client see: a TASK_FAILED carrying the remote
// message and stack, or a more helpful code where we can tell what went wrong (a free variable in shipped source).
import { isLoomError } from '@loom/protocol';
import type { ThreadTaskError } from './thread-messages.js';
import type { FunctionSpec } from './task-types.js';

export function describeTaskFailure(thrown: unknown, taskKey: string, spec: FunctionSpec | undefined): ThreadTaskError {
  if (isLoomError(thrown)) {
    const remoteCode = thrown.remoteCode;
    return { code: thrown.code, message: thrown.message, stack: thrown.remoteStack ?? thrown.stack ?? '', errorName: thrown.errorName ?? '', ...(remoteCode ? { remoteCode } : {}) };
  }
  if (!(thrown instanceof Error)) {
    // `throw 'text'` and friends: no class, no stack, only the value.
    return { code: 'TASK_FAILED', message: describeValue(thrown), stack: '', errorName: '' };
  }
  // A subclass that does not set `name` still reports its class (`class HttpError extends Error` → 'HttpError').
  const errorName = thrown.name !== 'Error' ? thrown.name : (thrown.constructor?.name ?? 'Error');
  const stack = thrown.stack ?? '';
  // What lets a client branch on the failure without parsing its message (a PartitionError's code, Node's errno name).
  const ownCode = (thrown as { code?: unknown }).code;
  const remoteCode = typeof ownCode === 'string' && ownCode.length > 0 ? { remoteCode: ownCode.slice(0, 200) } : {};
  const freeVariable = freeVariableOf(thrown, spec);
  if (freeVariable !== undefined && spec) {
    return {
      code: 'FREE_VARIABLE',
      message:
        `task '${taskKey}' failed: function '${spec.name}' uses '${freeVariable}', which does not exist on the worker. ` +
        `Functions travel to workers as source text without their closure: pass '${freeVariable}' as an argument, ` +
        `or export the function from a module the workers can import and submit { module, export }.`,
      stack,
      errorName,
    };
  }
  return { code: 'TASK_FAILED', message: thrown.message, stack, errorName, ...remoteCode };
}

/**
 * The variable name when `error` is "X is not defined" about a name the shipped source itself mentions. A
 * ReferenceError from a module function, or about a name the source never uses, is an ordinary failure.
 */
function freeVariableOf(error: Error, spec: FunctionSpec | undefined): string | undefined {
  if (!(error instanceof ReferenceError) || spec?.body.kind !== 'source') return undefined;
  const match = /^(\S+) is not defined$/.exec(error.message);
  const name = match?.[1];
  if (name === undefined) return undefined;
  const escaped = name.replace(/[$]/g, '\\$');
  return new RegExp(`(^|[^\\w$])${escaped}($|[^\\w$])`).test(spec.body.source) ? name : undefined;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return `non-Error value thrown: ${JSON.stringify(value) ?? String(value)}`;
  } catch {
    return `non-Error value thrown: ${String(value)}`;
  }
}
