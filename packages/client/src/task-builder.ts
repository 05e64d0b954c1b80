// Builds one TaskNode from a function, its call arguments and per-task options: checks the function, turns the
// arguments into a template with holes, encodes it, and derives the key. Shared by delayed, submit and map.
import { encodeTaskArgs } from '@loom/protocol';
import { scanArgs, type ExtraResolver } from './arg-template.js';
import { sanitizeName, type FunctionEntry } from './function-source.js';
import type { TaskNode, TaskOptions } from './task-node.js';
import { pureKey, randomKey } from './tokenize.js';

/** Options checked and normalised once, then applied to every task built from them. */
export interface ResolvedOptions {
  readonly name: string | undefined;
  readonly key: string | undefined;
  readonly pure: boolean;
  readonly priority: number;
  readonly retries: number;
  readonly resources: Record<string, number> | undefined;
}

const DEFAULT_OPTIONS: ResolvedOptions = {
  name: undefined,
  key: undefined,
  pure: true,
  priority: 0,
  retries: 0,
  resources: undefined,
};

export function resolveOptions(options: TaskOptions | undefined): ResolvedOptions {
  if (!options) return DEFAULT_OPTIONS;
  const { retries = 0, priority = 0, resources, key, name, pure = true } = options;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be a non-negative integer, got ${retries}`);
  if (!Number.isInteger(priority)) throw new RangeError(`priority must be an integer, got ${priority}`);
  if (key !== undefined && (typeof key !== 'string' || key === '')) throw new RangeError('key must be a non-empty string');
  if (resources !== undefined) {
    for (const [resource, amount] of Object.entries(resources)) {
      if (!(typeof amount === 'number' && amount >= 0 && Number.isFinite(amount))) {
        throw new RangeError(`resource '${resource}' must be a non-negative number, got ${String(amount)}`);
      }
    }
  }
  return {
    name: name === undefined ? undefined : sanitizeName(name),
    key,
    pure,
    priority,
    retries,
    resources: resources && Object.keys(resources).length > 0 ? { ...resources } : undefined,
  };
}

export function buildTask(
  fn: FunctionEntry,
  args: readonly unknown[],
  options: ResolvedOptions,
  extra?: ExtraResolver,
): TaskNode {
  const { template, holes, dependencies, tables } = scanArgs(args, extra);
  const name = options.name ?? fn.name;
  const encoded = encodeTaskArgs(template, holes, options.key ?? `${name}(…)`, tables);
  let key = options.key;
  if (key === undefined) {
    key = options.pure ? pureKey(name, fn.id, encoded, dependencies.map((dependency) => dependency.key)) : randomKey(name);
  }
  return {
    kind: 'task',
    key,
    fn,
    args: encoded,
    dependencies,
    priority: options.priority,
    retries: options.retries,
    resources: options.resources,
  };
}
