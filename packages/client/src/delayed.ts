// Lazy task graphs: delayed(fn) wraps a function so calling it builds a graph node instead of running it.
// Arguments may be plain data or other delayed values and futures, nested in arrays and plain objects.
// Also the module-level compute() and persist(), which run graphs on the current client.
import { functionEntry, type AnyFunction, type ModuleFunction } from './function-source.js';
import { currentClient, type DelayedRunner } from './current-client.js';
import type { Future } from './future.js';
import { buildTask, resolveOptions } from './task-builder.js';
import { AS_DEPENDENCY, type Dependable, type GraphNode, type TaskOptions } from './task-node.js';

/** An argument that stands for a `T`: the value itself, a delayed value or a future, also inside arrays and objects. */
export type Lift<T> = T | Delayed<T> | Future<T> | LiftInside<T>;

/** Arrays and objects whose elements or properties may themselves be lifted (functions are data-free). */
type LiftInside<T> = [T] extends [AnyFunction] ? never : [T] extends [object] ? { [K in keyof T]: Lift<T[K]> } : never;

export type LiftedArgs<P extends readonly unknown[]> = { [K in keyof P]: Lift<P[K]> };

/** The delayed version of `F`: same parameters (each may be lifted), returns a Delayed of the awaited result. */
export type DelayedFunction<F extends AnyFunction> = (...args: LiftedArgs<Parameters<F>>) => Delayed<Awaited<ReturnType<F>>>;

/** The values of a tuple of delayed values. */
export type DelayedValues<T extends readonly Delayed<unknown>[]> = { -readonly [K in keyof T]: T[K] extends Delayed<infer U> ? U : never };

let nodeOf: (value: Delayed<unknown>) => GraphNode;

export class Delayed<T = unknown> implements Dependable {
  readonly key: string;
  readonly #node: GraphNode;

  static {
    nodeOf = (value) => value.#node;
  }

  /** Built by delayed(...)(...) and persist(); a persisted value's node is a reference to its held key. */
  constructor(node: GraphNode) {
    this.key = node.key;
    this.#node = node;
  }

  /** True when the value lives on the workers (returned by persist()). */
  get persisted(): boolean {
    return this.#node.kind === 'external';
  }

  /** Runs the graph on `client` (default: the current client) and resolves with the value. */
  async compute(client: DelayedRunner = currentClient()): Promise<T> {
    const [value] = await client.computeDelayed([this]);
    return value as T;
  }

  /** Starts computing on the cluster and resolves, once the graph is accepted, to a delayed value held there. */
  async persist(client: DelayedRunner = currentClient()): Promise<Delayed<T>> {
    const [value] = await client.persistDelayed([this]);
    return value as Delayed<T>;
  }

  /** Releases a persisted value's data on the cluster (no-op for a value that is not persisted). */
  release(): void {
    const node = this.#node;
    if (node.kind === 'external') (node.holder as Future<unknown> | undefined)?.release();
  }

  [AS_DEPENDENCY](): GraphNode {
    const node = this.#node;
    if (node.kind === 'external' && node.holder?.released) {
      throw new TypeError(`the persisted value '${this.key}' was released and cannot be used any more`);
    }
    return node;
  }

  toString(): string {
    return `Delayed<${this.key}>`;
  }
}

/** The graph node behind a delayed value (for clients; not part of the public API). */
export function delayedNode(value: Delayed<unknown>): GraphNode {
  return nodeOf(value);
}

/**
 * Wraps `fn` so that calling it builds a task instead of running it. The function is checked now: it must not use
 * variables defined outside it (FREE_VARIABLE), since it runs on workers from its source text. A function may also
 * be given as `{ module, export }`, imported by the workers. Options apply to every task the wrapper builds.
 */
export function delayed<F extends AnyFunction>(fn: F, options?: TaskOptions): DelayedFunction<F>;
export function delayed<F extends AnyFunction = (...args: unknown[]) => unknown>(
  fn: ModuleFunction,
  options?: TaskOptions,
): DelayedFunction<F>;
export function delayed(fn: AnyFunction | ModuleFunction, options?: TaskOptions): (...args: unknown[]) => Delayed<unknown> {
  const entry = functionEntry(fn);
  const resolved = resolveOptions(options);
  return (...args: unknown[]) => new Delayed(buildTask(entry, args, resolved));
}

/** Computes delayed values together on the current client: one graph, shared sub-results computed once. */
export async function compute<const T extends readonly Delayed<unknown>[]>(...values: T): Promise<DelayedValues<T>> {
  return (await currentClient().computeDelayed(values)) as DelayedValues<T>;
}

/** Persists delayed values on the current client: their results stay in worker memory until released. */
export async function persist<const T extends readonly Delayed<unknown>[]>(...values: T): Promise<{ -readonly [K in keyof T]: T[K] }> {
  return (await currentClient().persistDelayed(values)) as { -readonly [K in keyof T]: T[K] };
}
