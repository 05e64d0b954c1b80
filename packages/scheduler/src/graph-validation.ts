// Checks a submitted graph before any of it is applied: every dependency is known, no cycles, no conflicting
// duplicates, every function is defined (fused chains too). Returns the new tasks in dependency order, ready to create.
import { LoomError } from '@loom/protocol';
import type { NewTask } from './stimuli.js';
import type { FunctionDefinition } from './task-state.js';

export interface KnownKeys {
  has(key: string): boolean;
}

/** New tasks (not already known to the scheduler) in an order where dependencies come first. */
export function validateGraph(
  tasks: readonly NewTask[],
  known: KnownKeys,
  functionIsKnown: (id: string) => boolean,
  wanted: readonly string[],
): NewTask[] {
  const fresh = new Map<string, NewTask>();
  // Clients send dependencies before dependents; confirming that in the same pass makes sorting unnecessary.
  let dependenciesFirst = true;
  for (const task of tasks) {
    if (task.key === '') throw new LoomError('INVALID_GRAPH', 'a task has an empty key');
    if (known.has(task.key)) continue;
    const previous = fresh.get(task.key);
    if (previous !== undefined) {
      if (previous.functionId !== task.functionId || previous.dependencies.join('\0') !== task.dependencies.join('\0')) {
        throw new LoomError('INVALID_GRAPH', `key '${task.key}' is defined twice with different tasks`);
      }
      continue;
    }
    if (!functionIsKnown(task.functionId)) {
      throw new LoomError('INVALID_GRAPH', `task '${task.key}' names function '${task.functionId}', which was never sent`);
    }
    if (dependenciesFirst) {
      for (const dependency of task.dependencies) {
        if (!fresh.has(dependency) && !known.has(dependency)) dependenciesFirst = false;
      }
    }
    fresh.set(task.key, task);
  }
  if (!dependenciesFirst) {
    for (const task of fresh.values()) {
      for (const dependency of task.dependencies) {
        if (!fresh.has(dependency) && !known.has(dependency)) {
          throw new LoomError(
            'UNKNOWN_DEPENDENCY',
            `task '${task.key}' depends on '${dependency}', which is neither in the graph nor held by the scheduler`,
          );
        }
      }
    }
  }
  for (const key of wanted) {
    if (!fresh.has(key) && !known.has(key)) {
      throw new LoomError('UNKNOWN_DEPENDENCY', `wanted key '${key}' is neither in the graph nor held by the scheduler`);
    }
  }
  return dependenciesFirst ? [...fresh.values()] : topologicalOrder(fresh);
}

/**
 * Checks the functions a graph defines: a fused chain (FusedChain in loom.proto) must name at least one function,
 * each already defined (earlier, or in this graph) and none a chain itself, so a worker never follows a loop.
 */
export function validateFunctions(functions: readonly FunctionDefinition[], lookup: (id: string) => FunctionDefinition | undefined): void {
  for (const fn of functions) {
    if (fn.chain === undefined) continue;
    if (fn.chain.length === 0) throw new LoomError('INVALID_GRAPH', `fused function '${fn.name}' (${fn.id}) names no functions`);
    for (const id of fn.chain) {
      const part = lookup(id);
      if (part === undefined) throw new LoomError('INVALID_GRAPH', `fused function '${fn.name}' names function '${id}', which was never sent`);
      if (part.chain !== undefined) throw new LoomError('INVALID_GRAPH', `fused function '${fn.name}' names another fused function, '${part.name}'`);
    }
  }
}

/** Kahn's algorithm over the new tasks only: known tasks cannot depend on keys that did not exist yet. */
function topologicalOrder(fresh: Map<string, NewTask>): NewTask[] {
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const task of fresh.values()) {
    let count = 0;
    for (const dependency of task.dependencies) {
      if (!fresh.has(dependency)) continue;
      count += 1;
      let list = dependents.get(dependency);
      if (list === undefined) dependents.set(dependency, (list = []));
      list.push(task.key);
    }
    pending.set(task.key, count);
  }
  const ordered: NewTask[] = [];
  const ready: string[] = [];
  for (const [key, count] of pending) if (count === 0) ready.push(key);
  while (ready.length > 0) {
    const key = ready.pop()!;
    ordered.push(fresh.get(key)!);
    for (const dependent of dependents.get(key) ?? []) {
      const left = pending.get(dependent)! - 1;
      pending.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
  }
  if (ordered.length < fresh.size) {
    const stuck = new Set([...pending].filter(([, count]) => count > 0).map(([key]) => key));
    throw new LoomError('CYCLIC_GRAPH', `cyclic graph: ${describeCycle(stuck, fresh).join(' -> ')}`);
  }
  return ordered;
}

/** Walks dependencies inside the stuck set until a key repeats: that stretch is a cycle. */
function describeCycle(stuck: Set<string>, fresh: Map<string, NewTask>): string[] {
  const path: string[] = [];
  const seenAt = new Map<string, number>();
  let key = stuck.values().next().value as string;
  while (!seenAt.has(key)) {
    seenAt.set(key, path.length);
    path.push(key);
    key = fresh.get(key)!.dependencies.find((dependency) => stuck.has(dependency))!;
  }
  return [...path.slice(seenAt.get(key)), key];
}
