// Collects the tasks reachable from a computation's outputs and puts them in Dask-like order: a depth-first
// post-order from the outputs, dependencies in argument order, so each branch finishes before the next starts
// and its intermediates can be freed early. Iterative (deep chains do not overflow the stack), linear in size.
import type { ExternalRef, GraphNode, KeyHolder, TaskNode } from './task-node.js';

export interface OrderedGraph {
  /** Distinct tasks in execution order: each task's index is its TaskSpec.order. */
  tasks: TaskNode[];
  /** Keys the graph depends on that the scheduler already has (futures, persisted values, raw refs). */
  externals: ExternalRef[];
  /** The holders keeping externals alive; they must stay referenced until the graph is accepted. */
  holders: KeyHolder[];
}

const VISITING = 1;
const DONE = 2;

export function orderGraph(outputs: readonly GraphNode[]): OrderedGraph {
  const tasks: TaskNode[] = [];
  const externals: ExternalRef[] = [];
  const holders: KeyHolder[] = [];
  // Identical sub-expressions built twice are distinct objects with one key: the key is the identity.
  const marks = new Map<string, number>();
  const stack: TaskNode[] = [];
  const next: number[] = [];

  const enter = (node: GraphNode): void => {
    if (marks.has(node.key)) return;
    if (node.kind === 'external') {
      marks.set(node.key, DONE);
      externals.push(node);
      if (node.holder) holders.push(node.holder);
      return;
    }
    marks.set(node.key, VISITING);
    stack.push(node);
    next.push(0);
  };

  for (const output of outputs) {
    enter(output);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const node = stack[top] as TaskNode;
      const index = next[top] as number;
      if (index < node.dependencies.length) {
        next[top] = index + 1;
        // A dependency still VISITING closes a cycle (only raw graphs can build one): the scheduler rejects it.
        enter(node.dependencies[index] as GraphNode);
      } else {
        stack.pop();
        next.pop();
        marks.set(node.key, DONE);
        tasks.push(node);
      }
    }
  }
  return { tasks, externals, holders };
}
