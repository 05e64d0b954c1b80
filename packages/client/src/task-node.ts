// The client's in-memory graph: a TaskNode is one task to send (function, encoded arguments, dependencies,
// per-task options); an ExternalRef is a key the scheduler already has (a future, a persisted value, or a raw
// reference). Delayed values, futures and raw refs all become one of these when used as an argument.
import type { FunctionEntry } from './function-source.js';

export interface TaskOptions {
  /** How many times a failed task is retried before it errs. */
  retries?: number;
  /** Higher runs first. */
  priority?: number;
  /** Abstract resources the task needs on its worker, e.g. { GPU: 1 }. */
  resources?: Record<string, number>;
  /** The task key, verbatim (otherwise derived from the function and arguments). */
  key?: string;
  /** The key prefix (otherwise the function's name, or 'lambda'). */
  name?: string;
  /** false gives the task a random key, so identical calls are computed separately. Default true. */
  pure?: boolean;
}

export interface TaskNode {
  readonly kind: 'task';
  key: string;
  fn: FunctionEntry;
  /** The encoded argument template (protocol's encodeTaskArgs). */
  args: Uint8Array;
  /** Distinct dependencies, in the order the holes index them. */
  dependencies: Array<TaskNode | ExternalRef>;
  priority: number;
  retries: number;
  resources: Record<string, number> | undefined;
}

export interface ExternalRef {
  readonly kind: 'external';
  readonly key: string;
  /** What keeps the key held while this reference is alive (a Future), if anything. */
  readonly holder: KeyHolder | undefined;
}

/** Something that holds a key on the scheduler: the graph builder checks it is still held before sending. */
export interface KeyHolder {
  readonly key: string;
  readonly released: boolean;
}

export type GraphNode = TaskNode | ExternalRef;

/** Objects usable as task arguments that stand for another task's value implement this. */
export const AS_DEPENDENCY: unique symbol = Symbol('loom.asDependency');

export interface Dependable {
  [AS_DEPENDENCY](): GraphNode;
}

export function isDependable(value: object): value is Dependable {
  return typeof (value as Partial<Dependable>)[AS_DEPENDENCY] === 'function';
}
