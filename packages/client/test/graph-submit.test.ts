import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoomError, decodeTaskArgs, pb, type loom } from '@loom/protocol';
import { delayed, delayedNode } from '../src/delayed.js';
import { orderGraph } from '../src/graph-order.js';
import { graphRequests, planGraph } from '../src/graph-submit.js';
import { encodeChunk, encodeSessionSubmit, type ChunkMessage } from '../src/graph-wire.js';
import { rawGraphNodes, ref, task } from '../src/raw-graph.js';

const inc = delayed((x: number) => x + 1);

/** Field values of a decoded request, whether each was written explicitly or left to its default. */
function fields(request: loom.v1.SubmitGraphRequest): unknown {
  return {
    clientId: request.clientId,
    graphId: request.graphId,
    final: request.final,
    wantedKeys: [...request.wantedKeys],
    tasks: request.tasks.map((spec) => ({
      key: spec.key,
      functionId: spec.functionId,
      args: Buffer.from(spec.args ?? []).toString('hex'),
      dependencies: [...(spec.dependencies ?? [])],
      priority: spec.priority,
      order: spec.order,
      retries: spec.retries,
      resources: { ...spec.resources },
    })),
    functions: request.functions.map((fn) => ({
      id: fn.id,
      name: fn.name,
      source: fn.source,
      module: fn.module ? { specifier: fn.module.specifier, exportName: fn.module.exportName } : undefined,
    })),
  };
}

/** What the scheduler decodes from a request. */
function decoded(request: ChunkMessage): loom.v1.SubmitGraphRequest {
  return pb.SubmitGraphRequest.decode(encodeChunk(request));
}
const pad = delayed((text: string, n: number) => text.length + n);

test('a large graph is split into chunks below the budget, sharing one graph id, the last one final', () => {
  const outputs = Array.from({ length: 2_000 }, (_, i) => delayedNode(pad('x'.repeat(200), i)));
  const budget = 64 * 1024;
  const plan = planGraph(orderGraph(outputs), outputs.map((output) => output.key), budget);
  assert.ok(plan.chunks.length > 4, `expected several chunks, got ${plan.chunks.length}`);
  const requests = graphRequests(plan, 'client-1');
  let tasks = 0;
  let functions = 0;
  let wanted = 0;
  for (const [index, message] of requests.entries()) {
    const encoded = encodeChunk(message).byteLength;
    assert.ok(encoded < budget, `chunk ${index} is ${encoded} bytes`);
    const request = decoded(message);
    assert.equal(request.graphId, plan.graphId);
    assert.equal(request.final, index === requests.length - 1);
    wanted += request.wantedKeys?.length ?? 0;
    tasks += request.tasks?.length ?? 0;
    functions += request.functions?.length ?? 0;
  }
  assert.equal(tasks, 2_000);
  assert.equal(wanted, 2_000, 'wanted keys follow the tasks, spread over the last chunks when they do not fit in one');
  assert.equal(functions, 1, 'each function is sent once per graph');
  assert.deepEqual(decoded(requests[0]!).tasks.slice(0, 3).map((spec) => spec.order), [0, 1, 2]);
  const second = decoded(requests[1]!);
  assert.equal(second.tasks[0]?.order, requests[0]!.tasks.length, 'order continues across chunks');
});

test('task specs carry order, dependencies in hole order and per-task options', () => {
  const scaled = delayed((a: number, b: number) => a * b, { priority: 3, retries: 2, resources: { GPU: 1 } });
  const root = scaled(inc(1), inc(2));
  const [message] = graphRequests(planGraph(orderGraph([delayedNode(root)]), [root.key], 1 << 20), 'c');
  const request = decoded(message!);
  assert.equal(request.clientId, 'c');
  assert.equal(request.final, true);
  assert.deepEqual(request.wantedKeys, [root.key]);
  const spec = request.tasks[2];
  assert.equal(spec?.key, root.key);
  assert.equal(spec?.order, 2);
  assert.deepEqual(spec?.dependencies, [inc(1).key, inc(2).key]);
  assert.deepEqual([spec?.priority, spec?.retries, spec?.resources], [3, 2, { GPU: 1 }]);
  assert.deepEqual(decodeTaskArgs(spec!.args!, [1, 2]), [1, 2]);
  assert.equal(request.functions.length, 2);
  assert.equal(request.functions[0]?.source, '(x) => x + 1');
});

test('the hand-written encoder matches protobufjs field for field, including negative priorities and modules', () => {
  const low = delayed({ module: 'file:///srv/jobs.js', export: 'run' }, { priority: -7, resources: { GPU: 0.5, RAM: 2e9 } });
  const value = low({ text: 'héllo ✓', list: [1.5, -3, 2 ** 40] }, inc(1));
  const plan = planGraph(orderGraph([delayedNode(value)]), [value.key], 1 << 20);
  const [message] = graphRequests(plan, 'client-ü');
  const ours = decoded(message!);
  const reference = pb.SubmitGraphRequest.decode(
    pb.SubmitGraphRequest.encode({
      clientId: 'client-ü',
      graphId: plan.graphId,
      tasks: message!.tasks.map((node, order) => ({
        key: node.key,
        functionId: node.fn.id,
        args: node.args,
        dependencies: node.dependencies.map((dependency) => dependency.key),
        priority: node.priority,
        order,
        retries: node.retries,
        resources: node.resources ?? {},
      })),
      functions: [...message!.functions],
      wantedKeys: [value.key],
      final: true,
    }).finish(),
  );
  assert.deepEqual(fields(ours), fields(reference));
  assert.equal(ours.tasks[1]?.priority, -7);
  const onStream = pb.ClientToScheduler.decode(encodeSessionSubmit({ ...message!, clientId: '' }));
  assert.deepEqual(fields(onStream.submit as loom.v1.SubmitGraphRequest), { ...(fields(ours) as object), clientId: '' });
  assert.equal(onStream.hello, null);
  assert.equal(ours.functions[1]?.module?.specifier, 'file:///srv/jobs.js');
  assert.equal(ours.functions[1]?.module?.exportName, 'run');
});

test('a task too large for one message fails with MESSAGE_TOO_LARGE naming it and its size, before sending', () => {
  const huge = pad('y'.repeat(300_000), 1);
  assert.throws(
    () => planGraph(orderGraph([delayedNode(huge)]), [huge.key], 128 * 1024),
    (error: unknown) =>
      error instanceof LoomError && error.code === 'MESSAGE_TOO_LARGE' && error.message.includes(huge.key) && /293\.\d KiB/.test(error.message),
  );
});

test('raw graphs keep their keys; refs to unknown keys become external dependencies; cycles are ordered anyway', () => {
  const add = (a: number, b: number) => a + b;
  const nodes = rawGraphNodes({ x: task(add, 1, 2), y: task(add, ref('x'), ref('elsewhere')) });
  const graph = orderGraph([nodes.get('y')!]);
  assert.deepEqual(graph.tasks.map((spec) => spec.key), ['x', 'y']);
  assert.deepEqual(graph.externals.map((external) => external.key), ['elsewhere']);

  const cyclic = rawGraphNodes({ a: task(add, ref('b'), 1), b: task(add, ref('a'), 1) });
  const order = orderGraph([cyclic.get('a')!]).tasks.map((spec) => spec.key);
  assert.deepEqual(order.sort(), ['a', 'b']);
});
