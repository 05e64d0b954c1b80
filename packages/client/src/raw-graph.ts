// The raw graph API, like Dask's `client.get`: a plain object `{ [key]: task(fn, ...args) }` whose arguments mark
// dependencies with `ref('otherKey')`. Keys are the user's, verbatim, and nothing is checked on the client beyond
// the functions, so graphs the scheduler must reject (unknown dependencies, cycles) can be sent as written.
import { functionEntry, type AnyFunction, type ModuleFunction } from './function-source.js';
import { buildTask, resolveOptions } from './task-builder.js';
import type { GraphNode, TaskNode, TaskOptions } from './task-node.js';

export class RawTask {
  constructor(
    readonly fn: AnyFunction | ModuleFunction,
    readonly args: readonly unknown[],
    readonly options: TaskOptions | undefined,
  ) {}
}

/** Marks a dependency on another key of the graph (or one the scheduler already holds). */
export class RawRef {
  constructor(readonly key: string) {}
}

export type RawGraph = Readonly<Record<string, RawTask>>;

/** A task of a raw graph: `fn` called with `args`, where ref(key) stands for that key's value. */
export function task(fn: AnyFunction | ModuleFunction, ...args: unknown[]): RawTask {
  return new RawTask(fn, args, undefined);
}

/** Like task(), with per-task options (retries, priority, resources). */
export function taskWith(options: TaskOptions, fn: AnyFunction | ModuleFunction, ...args: unknown[]): RawTask {
  return new RawTask(fn, args, options);
}

export function ref(key: string): RawRef {
  return new RawRef(key);
}

/** The graph's tasks as nodes; a ref to a key outside the graph becomes an external reference. */
export function rawGraphNodes(graph: RawGraph): Map<string, TaskNode> {
  const nodes = new Map<string, TaskNode>();
  const entries = Object.entries(graph);
  // Create every node first so refs can point at nodes defined later (or in a cycle).
  for (const [key, value] of entries) {
    if (!(value instanceof RawTask)) throw new TypeError(`graph entry '${key}' must be task(fn, ...args)`);
    if (key === '') throw new TypeError('graph keys must be non-empty');
    nodes.set(key, { kind: 'task', key, fn: functionEntry(value.fn), args: new Uint8Array(), dependencies: [], priority: 0, retries: 0, resources: undefined });
  }
  const resolveRef = (value: object): GraphNode | undefined => {
    if (!(value instanceof RawRef)) return undefined;
    return nodes.get(value.key) ?? { kind: 'external', key: value.key, holder: undefined };
  };
  for (const [key, value] of entries) {
    const node = nodes.get(key) as TaskNode;
    const built = buildTask(node.fn, value.args, { ...resolveOptions(value.options), key }, resolveRef);
    Object.assign(node, built);
  }
  return nodes;
}
