// The arguments of a fused task (FusedChain in loom.proto), shared by the client that fuses and the worker that
// runs the chain. They are an ordinary argument template, so the worker's task path needs nothing new: argument
// 0 lists the steps, arguments 1..n are the fused task's dependencies (holes, filled as for any task). Each step
// keeps its own encoded template and says which values fill its holes: value i < n is dependency i, value n + k
// is the result of step k. So the steps' templates travel as the client encoded them, never re-encoded.
import { decodeTaskArgs, encodeTaskArgs, type ArgHole } from './task-args.js';

export interface FusedStep {
  /** The key the step would have had as a task of its own: a failure in it is reported under this key. */
  key: string;
  /** The step's own argument template (encodeTaskArgs), its holes indexing `inputs`. */
  args: Uint8Array;
  /** For each of the step's dependencies, the index of the value that fills it (see above). */
  inputs: number[];
}

export function encodeFusedArgs(steps: readonly FusedStep[], dependencyCount: number, taskKey: string): Uint8Array {
  const template: unknown[] = [steps.map((step) => ({ key: step.key, args: step.args, inputs: step.inputs }))];
  const holes: ArgHole[] = [];
  for (let dependency = 0; dependency < dependencyCount; dependency++) {
    template.push(null);
    holes.push({ path: [dependency + 1], dependency });
  }
  return encodeTaskArgs(template, holes, taskKey);
}

/** Step `step`'s arguments, given the dependencies' values followed by the results of the steps before it. */
export function fusedStepArgs(step: FusedStep, values: readonly unknown[]): unknown[] {
  return decodeTaskArgs(step.args, step.inputs.map((index) => values[index]));
}
