// Turns a call's arguments into the wire template: every delayed value, future or raw ref found in the arguments
// (at any depth inside arrays and plain objects) is replaced by a hole naming its position and dependency, and
// every Arrow table (of any apache-arrow copy) is lifted out to travel as Arrow IPC. Containers are copied only
// along paths that hold either; other data is sent as the user gave it.
import { isArrowTableLike, type ArgHole, type ArgTable } from '@loom/protocol';
import { AS_DEPENDENCY, isDependable, type GraphNode } from './task-node.js';

export interface ArgTemplate {
  template: unknown[];
  holes: ArgHole[];
  /** Distinct dependencies by key, in first-seen order; holes index into this list. */
  dependencies: GraphNode[];
  /** Arrow tables found in the arguments; null holds their places in the template. */
  tables: ArgTable[];
}

/** Maps an argument that is not Dependable (e.g. a raw graph's ref) to a node; undefined leaves it as data. */
export type ExtraResolver = (value: object) => GraphNode | undefined;

interface ScanContext {
  holes: ArgHole[];
  tables: ArgTable[];
  dependencies: GraphNode[];
  indexByKey: Map<string, number>;
  /** Containers on the current path: a cyclic structure is left to the encoder instead of looping here. */
  ancestors: object[];
  extra: ExtraResolver | undefined;
}

export function scanArgs(args: readonly unknown[], extra?: ExtraResolver): ArgTemplate {
  let context: ScanContext | undefined;
  let template: unknown[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const value = args[i];
    // Primitives are the common case (client.map over numbers): no context, no copy.
    if (typeof value !== 'object' || value === null) continue;
    context ??= { holes: [], tables: [], dependencies: [], indexByKey: new Map(), ancestors: [], extra };
    const scanned = scanValue(value, [i], context);
    if (scanned !== value) {
      template ??= args.slice();
      template[i] = scanned;
    }
  }
  return {
    template: template ?? (args as unknown[]),
    holes: context?.holes ?? [],
    dependencies: context?.dependencies ?? [],
    tables: context?.tables ?? [],
  };
}

function scanValue(value: object, path: Array<string | number>, context: ScanContext): unknown {
  const dependency = isDependable(value) ? value[AS_DEPENDENCY]() : context.extra?.(value);
  if (dependency) {
    context.holes.push({ path: path.slice(), dependency: dependencyIndex(dependency, context) });
    return null;
  }
  if (Array.isArray(value)) return scanContainer(value, Object.keys(value), path, context);
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype === Object.prototype || prototype === null) return scanContainer(value, Object.keys(value), path, context);
  if (isArrowTableLike(value)) {
    context.tables.push({ path: path.slice(), table: value });
    return null;
  }
  return value;
}

function scanContainer(container: object, keys: string[], path: Array<string | number>, context: ScanContext): unknown {
  if (context.ancestors.includes(container)) return container;
  context.ancestors.push(container);
  const isArray = Array.isArray(container);
  const source = container as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of keys) {
    const value = source[key];
    if (typeof value !== 'object' || value === null) continue;
    path.push(isArray ? Number(key) : key);
    const scanned = scanValue(value, path, context);
    path.pop();
    if (scanned !== value) {
      copy ??= (isArray ? (container as unknown[]).slice() : { ...source }) as Record<string, unknown>;
      copy[key] = scanned;
    }
  }
  context.ancestors.pop();
  return copy ?? container;
}

function dependencyIndex(dependency: GraphNode, context: ScanContext): number {
  let index = context.indexByKey.get(dependency.key);
  if (index === undefined) {
    index = context.dependencies.length;
    context.dependencies.push(dependency);
    context.indexByKey.set(dependency.key, index);
  }
  return index;
}
