// Splits an ordered graph into SubmitGraph requests: runs of tasks, the graph's distinct FunctionDefs (each sent
// once, with the first task that uses it) and the wanted keys (after the tasks), every request below a byte
// budget (half the scheduler's message limit), all sharing one graph id, the last one `final`.
import { randomUUID } from 'node:crypto';
import { LoomError, formatBytes, type loom } from '@loom/protocol';
import type { OrderedGraph } from './graph-order.js';
import { functionDefSize, taskSpecSize, varintSize, type ChunkMessage } from './graph-wire.js';
import type { TaskNode } from './task-node.js';

export interface GraphChunk {
  tasks: TaskNode[];
  /** Each task's encoded TaskSpec size, so the encoder does not measure again. */
  taskSizes: number[];
  /** The order of the chunk's first task: chunks are contiguous runs of the ordered graph. */
  firstOrder: number;
  functions: loom.v1.IFunctionDef[];
  /** Wanted keys follow the tasks and may spread over the last chunks; the scheduler applies their union. */
  wantedKeys: string[];
}

export interface GraphPlan {
  graphId: string;
  chunks: GraphChunk[];
  /** Every wanted key, in order. */
  wantedKeys: string[];
}

/**
 * Splits the graph so each request stays below `budgetBytes`. Throws MESSAGE_TOO_LARGE, before anything is sent,
 * for a single task that cannot fit in one request.
 */
export function planGraph(graph: OrderedGraph, wantedKeys: string[], budgetBytes: number): GraphPlan {
  const room = budgetBytes - HEADER_ALLOWANCE;
  const chunks: GraphChunk[] = [];
  const sentFunctions = new Set<string>();
  let current: GraphChunk = { tasks: [], taskSizes: [], firstOrder: 0, functions: [], wantedKeys: [] };
  let used = 0;
  const startChunkIfFull = (size: number, nextOrder: number): void => {
    if (used + size <= room || used === 0) return;
    chunks.push(current);
    current = { tasks: [], taskSizes: [], firstOrder: nextOrder, functions: [], wantedKeys: [] };
    used = 0;
  };

  const tasks = graph.tasks;
  for (let order = 0; order < tasks.length; order++) {
    const node = tasks[order] as TaskNode;
    const specSize = taskSpecSize(node, order);
    let size = fieldSize(specSize);
    if (size > room) tooLarge(`task '${node.key}'`, size, budgetBytes);
    const fn = node.fn;
    // A fused chain's own functions go first: the scheduler checks a chain's parts when the chain arrives.
    const needed = [...(fn.parts ?? []), fn].filter((entry) => !sentFunctions.has(entry.id));
    for (const entry of needed) {
      size += fieldSize(functionDefSize(entry.def));
      if (size > room) tooLarge(`the function '${entry.name}' with task '${node.key}'`, size, budgetBytes);
      sentFunctions.add(entry.id);
    }
    startChunkIfFull(size, order);
    for (const entry of needed) current.functions.push(entry.def);
    current.tasks.push(node);
    current.taskSizes.push(specSize);
    used += size;
  }
  for (const key of wantedKeys) {
    const size = fieldSize(Buffer.byteLength(key));
    startChunkIfFull(size, tasks.length);
    current.wantedKeys.push(key);
    used += size;
  }
  chunks.push(current);
  return { graphId: randomUUID(), chunks, wantedKeys };
}

/** The SubmitGraph requests of a plan, in sending order (encode each with graph-wire's encodeChunk). */
export function graphRequests(plan: GraphPlan, clientId: string): ChunkMessage[] {
  const last = plan.chunks.length - 1;
  return plan.chunks.map((chunk, index) => ({
    clientId,
    graphId: plan.graphId,
    tasks: chunk.tasks,
    taskSizes: chunk.taskSizes,
    firstOrder: chunk.firstOrder,
    functions: chunk.functions,
    wantedKeys: chunk.wantedKeys,
    final: index === last,
  }));
}

// Room for the request's client id, graph id and final flag.
const HEADER_ALLOWANCE = 512;

/** A repeated message or string field: tag, length, body. */
function fieldSize(bodySize: number): number {
  return 1 + varintSize(bodySize) + bodySize;
}

function tooLarge(what: string, size: number, budgetBytes: number): never {
  throw new LoomError(
    'MESSAGE_TOO_LARGE',
    `${what} is ${formatBytes(size)} encoded, more than the ${formatBytes(budgetBytes)} one graph message may carry ` +
      `(half the scheduler's message limit). Do not pass large data as an argument: load it inside a task ` +
      `(pass a path or URL), split it over several tasks, or raise the scheduler's --max-message-size.`,
  );
}
