// Linear-chain fusion, as Dask's optimizer does before a graph is scheduled: a task whose value exactly one other
// task of the graph needs, and that nobody asked for, runs inside that task instead of on its own. A DataFrame's
// readCsv -> filter -> select then is one task per partition: the unfiltered table is never encoded, handed to
// the worker's store, counted against its memory, spilled or scheduled (the out-of-core run: ~25 % less time).
// Only chains fuse: a task with two such inputs keeps them as separate tasks, which may run in parallel.
import { createHash } from 'node:crypto';
import { encodeFusedArgs, type FusedStep } from '@loom/protocol';
import type { FunctionEntry } from './function-source.js';
import type { GraphNode, TaskNode } from './task-node.js';

export interface FuseOptions {
  /** Keys the computation asks for: their values must exist, so they are never fused away. */
  wanted: ReadonlySet<string>;
  /** Whether the client already holds `key` on the scheduler: computed or computing there, so reused as it is. */
  held: (key: string) => boolean;
}

/**
 * The most steps one fused task runs. A long loop of delayed calls (x = step(x), a hundred thousand times) would
 * otherwise become one task whose arguments outgrow a graph message, and whose every retry redoes all of it.
 */
export const MAX_FUSED_STEPS = 32;

/** A run of original tasks that becomes one, and the dependencies of the whole run (distinct, first seen first). */
interface Chain {
  steps: TaskNode[];
  dependencies: GraphNode[];
}

/**
 * Fuses the linear chains of an ordered graph (dependencies before dependents). The result is ordered the same
 * way: a fused task takes the place of its last step, whose key it keeps, and its inputs all come earlier.
 */
export function fuseLinearChains(tasks: readonly TaskNode[], options: FuseOptions): TaskNode[] {
  const dependents = new Map<string, number>();
  for (const task of tasks) {
    for (const dependency of task.dependencies) dependents.set(dependency.key, (dependents.get(dependency.key) ?? 0) + 1);
  }
  const chains = new Map<string, Chain>();
  const absorbed = new Set<string>();
  const canAbsorb = (task: TaskNode, dependency: GraphNode): dependency is TaskNode => {
    const chain = chains.get(dependency.key);
    return (
      chain !== undefined &&
      dependency.kind === 'task' &&
      dependents.get(dependency.key) === 1 &&
      !options.wanted.has(dependency.key) &&
      !options.held(dependency.key) &&
      sameResources(dependency.resources, task.resources) &&
      chain.steps.length < MAX_FUSED_STEPS &&
      // Only a raw graph's cycle could lead back here; fused, it would hide as a task depending on itself.
      !chain.dependencies.some((input) => input.key === task.key)
    );
  };

  for (const task of tasks) {
    // Tasks are unique by key here; chains exist only for tasks already passed, so a cycle is never followed.
    const candidates = task.dependencies.filter((dependency) => canAbsorb(task, dependency));
    const input = candidates.length === 1 ? (candidates[0] as TaskNode) : undefined;
    if (input === undefined) {
      chains.set(task.key, { steps: [task], dependencies: task.dependencies });
      continue;
    }
    const before = chains.get(input.key) as Chain;
    absorbed.add(input.key);
    const dependencies = [...before.dependencies];
    const seen = new Set(dependencies.map((dependency) => dependency.key));
    for (const dependency of task.dependencies) {
      if (dependency.key === input.key || seen.has(dependency.key)) continue;
      seen.add(dependency.key);
      dependencies.push(dependency);
    }
    chains.set(task.key, { steps: [...before.steps, task], dependencies });
  }

  const fused: TaskNode[] = [];
  for (const task of tasks) {
    if (absorbed.has(task.key)) continue;
    const chain = chains.get(task.key) as Chain;
    fused.push(chain.steps.length === 1 ? task : fuseChain(chain));
  }
  return fused;
}

function fuseChain({ steps, dependencies }: Chain): TaskNode {
  const last = steps[steps.length - 1] as TaskNode;
  const valueIndex = new Map(dependencies.map((dependency, index) => [dependency.key, index]));
  const encodedSteps: FusedStep[] = steps.map((step, index) => {
    // Each step's result is value `dependencies.length + index`, for the step after it to read.
    const inputs = step.dependencies.map((dependency) => valueIndex.get(dependency.key) as number);
    valueIndex.set(step.key, dependencies.length + index);
    return { key: step.key, args: step.args, inputs };
  });
  return {
    kind: 'task',
    key: last.key,
    fn: chainEntry(steps.map((step) => step.fn)),
    args: encodeFusedArgs(encodedSteps, dependencies.length, last.key),
    dependencies,
    priority: Math.max(...steps.map((step) => step.priority)),
    retries: Math.max(...steps.map((step) => step.retries)),
    resources: last.resources,
  };
}

const chainEntries = new Map<string, FunctionEntry>();

/** The FunctionDef of a chain of functions; it names them, so they are sent before it (FunctionEntry.parts). */
export function chainEntry(functions: readonly FunctionEntry[]): FunctionEntry {
  const ids = functions.map((fn) => fn.id);
  const id = createHash('sha1').update(`chain\0${ids.join('\0')}`).digest('hex');
  let entry = chainEntries.get(id);
  if (entry === undefined) {
    const name = functions.map((fn) => fn.name).join('+');
    entry = { id, name, def: { id, name, chain: { functionIds: ids } }, parts: [...new Map(functions.map((fn) => [fn.id, fn])).values()] };
    chainEntries.set(id, entry);
  }
  return entry;
}

function sameResources(a: Record<string, number> | undefined, b: Record<string, number> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => a[name] === b[name]);
}
