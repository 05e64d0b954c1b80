// What every training task of one train() run is told: the model description, the classes, the optimizer and
// where to execute. Plain data, so it travels in task arguments; each task thread turns it into a ModelSpec once.
import type { ExecutionConfig } from '../execution.js';
import type { ModelSpec } from '../model-spec.js';
import type { OptimizerConfig } from '../optimizers.js';
import { textModelSpec, type TextModel } from '../train/text-model.js';

export interface RunSpec {
  /** Unique per train() call: keys cached sessions so two runs never share one. */
  readonly id: string;
  readonly model: TextModel;
  readonly classes: readonly string[];
  readonly optimizer: OptimizerConfig;
  readonly seed: number;
  readonly execution: ExecutionConfig;
}

const specs = new Map<string, ModelSpec>();

export function modelSpecOf(run: RunSpec): ModelSpec {
  let spec = specs.get(run.id);
  if (spec === undefined) {
    spec = textModelSpec(run.model, run.classes);
    if (specs.size > 8) specs.clear();
    specs.set(run.id, spec);
  }
  return spec;
}
