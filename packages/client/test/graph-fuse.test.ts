import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTaskArgs, fusedStepArgs, pb, type FusedStep } from '@loom/protocol';
import { delayed, delayedNode, type Delayed } from '../src/delayed.js';
import { fuseLinearChains, MAX_FUSED_STEPS } from '../src/graph-fuse.js';
import { orderGraph } from '../src/graph-order.js';
import { graphRequests, planGraph } from '../src/graph-submit.js';
import { encodeChunk } from '../src/graph-wire.js';
import type { TaskNode } from '../src/task-node.js';

const inc = delayed((x: number) => x + 1);
const double = delayed((x: number) => x * 2);
const add = delayed((a: number, b: number) => a + b);
const nothingHeld = (): boolean => false;

function fuse(outputs: Delayed<unknown>[], held: (key: string) => boolean = nothingHeld): TaskNode[] {
  const wanted = new Set(outputs.map((output) => output.key));
  return fuseLinearChains(orderGraph(outputs.map(delayedNode)).tasks, { wanted, held });
}

/** Runs a (possibly fused) graph in order with the local functions, as workers would. */
function run(tasks: TaskNode[], functions: Map<string, (...args: never[]) => unknown>): Map<string, unknown> {
  const values = new Map<string, unknown>();
  const call = (id: string, args: unknown[]): unknown => (functions.get(id) as (...a: unknown[]) => unknown)(...args);
  for (const task of tasks) {
    const inputs = task.dependencies.map((dependency) => values.get(dependency.key));
    const chain = task.fn.def.chain?.functionIds ?? undefined;
    if (chain === undefined) {
      values.set(task.key, call(task.fn.id, decodeTaskArgs(task.args, inputs)));
      continue;
    }
    const [steps, ...dependencyValues] = decodeTaskArgs(task.args, inputs) as [FusedStep[], ...unknown[]];
    const stepValues = [...dependencyValues];
    chain.forEach((id, index) => stepValues.push(call(id, fusedStepArgs(steps[index] as FusedStep, stepValues))));
    values.set(task.key, stepValues[stepValues.length - 1]);
  }
  return values;
}

const idOf = (value: Delayed<unknown>): string => (delayedNode(value) as TaskNode).fn.id;
const localFunctions = new Map<string, (...args: never[]) => unknown>([
  [idOf(inc(0)), (x: number) => x + 1],
  [idOf(double(0)), (x: number) => x * 2],
  [idOf(add(0, 0)), (a: number, b: number) => a + b],
]);

test('a linear chain becomes one task with the last key, running its functions in turn', () => {
  const result = double(inc(inc(1)));
  const tasks = fuse([result]);
  assert.equal(tasks.length, 1);
  const [fused] = tasks as [TaskNode];
  assert.equal(fused.key, result.key);
  assert.deepEqual(fused.dependencies, []);
  const ids = fused.fn.def.chain?.functionIds;
  assert.deepEqual(ids, [idOf(inc(0)), idOf(inc(0)), idOf(double(0))]);
  assert.deepEqual(fused.fn.parts?.map((part) => part.id), [...new Set(ids)], 'each function the chain runs, once');
  assert.equal(run(tasks, localFunctions).get(result.key), 6);
});

test('a long chain is cut into fused tasks of at most MAX_FUSED_STEPS steps', () => {
  let value = inc(0);
  for (let i = 1; i < 100; i++) value = inc(value);
  const tasks = fuse([value]);
  assert.equal(tasks.length, Math.ceil(100 / MAX_FUSED_STEPS));
  assert.ok(tasks.every((task) => (task.fn.def.chain?.functionIds?.length ?? 1) <= MAX_FUSED_STEPS));
  assert.equal(run(tasks, localFunctions).get(value.key), 100);
});

test('inputs shared with other tasks stay separate; the chain reads them as dependencies', () => {
  const shared = inc(10); // two dependents: not fused
  const left = double(inc(add(shared, 1))); // add -> inc -> double fuse, reading `shared`
  const right = add(shared, 5);
  const tasks = fuse([left, right]);
  assert.deepEqual(tasks.map((task) => task.key).sort(), [shared.key, left.key, right.key].sort());
  const fused = tasks.find((task) => task.key === left.key) as TaskNode;
  assert.deepEqual(fused.dependencies.map((dependency) => dependency.key), [shared.key]);
  assert.ok(tasks.indexOf(fused) > tasks.findIndex((task) => task.key === shared.key), 'dependencies still come first');
  const values = run(tasks, localFunctions);
  assert.equal(values.get(left.key), ((11 + 1) + 1) * 2);
  assert.equal(values.get(right.key), 16);
});

test('wanted, held, differently placed and fan-in inputs are not fused away', () => {
  const wantedInput = inc(1);
  assert.equal(fuse([double(wantedInput), wantedInput]).length, 2, 'a key the computation asks for keeps its task');

  const heldInput = inc(2);
  assert.equal(fuse([double(heldInput)], (key) => key === heldInput.key).length, 2, 'a key the client holds is reused');

  const onGpu = delayed((x: number) => x * 3, { resources: { GPU: 1 } });
  assert.equal(fuse([onGpu(inc(3))]).length, 2, 'a step needing other resources keeps its own placement');
  const gpuChain = onGpu(onGpu(4));
  assert.equal(fuse([gpuChain]).length, 1, 'steps needing the same resources fuse');

  const both = add(inc(5), inc(6));
  assert.equal(fuse([both]).length, 3, 'two fusable inputs would run one after the other: left as parallel tasks');
});

test('a fused graph is sent with the chain after its functions, as the scheduler requires', () => {
  const result = double(inc(7));
  const graph = orderGraph([delayedNode(result)]);
  graph.tasks = fuseLinearChains(graph.tasks, { wanted: new Set([result.key]), held: nothingHeld });
  const [message] = graphRequests(planGraph(graph, [result.key], 1 << 20), 'c');
  const request = pb.SubmitGraphRequest.decode(encodeChunk(message!));
  assert.equal(request.tasks.length, 1);
  const chain = request.functions[2];
  assert.deepEqual(
    request.functions.slice(0, 2).map((fn) => fn.source),
    ['(x) => x + 1', '(x) => x * 2'],
  );
  assert.deepEqual(chain?.chain?.functionIds, [request.functions[0]?.id, request.functions[1]?.id]);
  assert.equal(request.tasks[0]?.functionId, chain?.id);
  assert.equal(chain?.name, 'lambda+lambda');
});
