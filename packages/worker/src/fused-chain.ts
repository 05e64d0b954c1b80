// Runs a fused chain (loom.proto's FusedChain; the client's graph-fuse.ts builds them): the chain's functions in
// turn inside one task, each step's arguments filled from the task's dependencies and the results before it
// (protocol's fused-chain.ts), so intermediates stay plain values in this thread. An Arrow table a step returns
// from another apache-arrow copy becomes one of Loom's before the next step reads it, as encoding would make it.
import { LoomError, asLoomTable, fusedStepArgs, type FusedStep } from '@loom/protocol';
import type { FunctionSpec, TaskFunction } from './task-types.js';

export interface ChainParts {
  load(id: string): TaskFunction | Promise<TaskFunction>;
  spec(id: string): FunctionSpec | undefined;
}

export interface FailedStep {
  /** The step's own key (FusedStep.key): the failure is reported under it, as it would be unfused. */
  key: string;
  /** Its function, so the failure is described against that function's source. */
  spec: FunctionSpec | undefined;
}

/** Which step of a chain threw an error. */
const failedSteps = new WeakMap<object, FailedStep>();

export function failingStep(error: unknown): FailedStep | undefined {
  return typeof error === 'object' && error !== null ? failedSteps.get(error) : undefined;
}

export function chainFunction(name: string, functionIds: readonly string[], parts: ChainParts): TaskFunction {
  return async (steps: unknown, ...dependencies: unknown[]): Promise<unknown> => {
    if (!Array.isArray(steps) || steps.length !== functionIds.length) {
      throw new LoomError(
        'SERIALIZATION_FAILED',
        `fused task '${name}' expects arguments for ${functionIds.length} steps, got ${Array.isArray(steps) ? steps.length : 'none'}`,
      );
    }
    // Dependencies first, then each step's result: the numbering FusedStep.inputs uses.
    const values = dependencies;
    let result: unknown;
    for (let index = 0; index < functionIds.length; index++) {
      const id = functionIds[index] as string;
      const step = steps[index] as FusedStep;
      try {
        let fn = parts.load(id);
        if (typeof fn !== 'function') fn = await fn;
        result = fn(...fusedStepArgs(step, values));
        if (isThenable(result)) result = await result;
        result = asLoomTable(result, `the result of task '${step.key}'`) ?? result;
      } catch (error) {
        if (typeof error === 'object' && error !== null) failedSteps.set(error, { key: step.key, spec: parts.spec(id) });
        throw error;
      }
      values.push(result);
    }
    return result;
  };
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
