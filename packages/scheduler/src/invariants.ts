// The scheduler's invariants, checked after every stimulus in validate mode (tests run with it on). A broken
// invariant throws with the task or worker and the rule, so a state-machine bug surfaces at its cause.
import { LoomError } from '@loom/protocol';
import { RESTRICTED_LOOKAHEAD } from './ready-queues.js';
import type { SchedulerState } from './scheduler-state.js';
import type { TaskHeap } from './task-heap.js';
import type { TaskPrefix, TaskState } from './task-state.js';
import { NEEDS_INPUTS } from './transitions.js';
import type { WorkerState } from './worker-state.js';

export function checkInvariants(state: SchedulerState): void {
  const queueOwners = new Map([...state.workers.values()].map((worker) => [worker.affinityQueue, worker]));
  const queued = new Map<TaskHeap, number>();
  for (const task of state.tasks.values()) {
    checkTask(state, task, queueOwners);
    if (task.queuedIn !== undefined) queued.set(task.queuedIn, (queued.get(task.queuedIn) ?? 0) + 1);
  }
  const countsQueued = (heap: TaskHeap) => heap.size === (queued.get(heap) ?? 0);
  if (!countsQueued(state.queues.root)) throw invariant(`the root queue counts ${state.queues.root.size} tasks, not the ones queued there`);
  if (!countsQueued(state.queues.restricted)) throw invariant(`the restricted queue counts ${state.queues.restricted.size} tasks, not the ones queued there`);
  for (const worker of state.workers.values()) {
    workerRule(countsQueued(worker.affinityQueue), worker.name, () => `its queue counts ${worker.affinityQueue.size} tasks, not the ones queued there`);
    let occupancy = 0;
    const resources: Record<string, number> = {};
    for (const task of worker.processing) {
      expect(task.state === 'processing' && task.processingOn === worker, task, () => `listed as processing on ${worker.name}`);
      occupancy += task.expectedSeconds;
      if (task.resources !== undefined) for (const name in task.resources) resources[name] = (resources[name] ?? 0) + task.resources[name]!;
    }
    for (const task of worker.hasWhat) expect(task.whoHas.has(worker), task, () => `listed on ${worker.name} without whoHas`);
    workerRule(Math.abs(worker.occupancy - occupancy) < 1e-6, worker.name, () => `occupancy ${worker.occupancy} but its tasks expect ${occupancy} s`);
    for (const name of new Set([...Object.keys(resources), ...Object.keys(worker.resourcesInUse)])) {
      const used = worker.resourcesInUse[name] ?? 0;
      workerRule(Math.abs(used - (resources[name] ?? 0)) < 1e-9, worker.name, () => `counts ${used} of ${name} in use, its tasks ${resources[name] ?? 0}`);
      workerRule(used <= (worker.resources[name] ?? 0) + 1e-9, worker.name, () => `uses ${used} of resource ${name} (declared ${worker.resources[name] ?? 0})`);
    }
  }
  checkNoIdleWorkerBesideWork(state);
  checkPrefixCounts(state);
  for (const task of state.noWorker) expect(task.state === 'no-worker' && state.tasks.get(task.key) === task, task, 'in the no-worker set');
  for (const client of state.clients.values()) {
    for (const task of client.wants) expect(task.whoWants.has(client) && state.tasks.get(task.key) === task, task, 'wanted but unknown');
  }
}

/** The per-kind state counts the dashboard reads match the tasks themselves (forgotten ones are gone from the map). */
function checkPrefixCounts(state: SchedulerState): void {
  const counted = new Map<TaskPrefix, Map<string, number>>();
  for (const task of state.tasks.values()) {
    let states = counted.get(task.prefix);
    if (states === undefined) counted.set(task.prefix, (states = new Map()));
    states.set(task.state, (states.get(task.state) ?? 0) + 1);
  }
  for (const prefix of state.prefixes.values()) {
    for (const [name, count] of Object.entries(prefix.states)) {
      if (name === 'forgotten') continue;
      const actual = counted.get(prefix)?.get(name) ?? 0;
      if (count !== actual) throw invariant(`kind '${prefix.name}' counts ${count} tasks ${name}, but ${actual} are`);
    }
  }
}

/** Work is handed out eagerly: after a step, no worker with a free slot sits beside queued work it could run. */
function checkNoIdleWorkerBesideWork(state: SchedulerState): void {
  const affinityQueued = [...state.workers.values()].some((worker) => worker.affinityQueue.size > 0);
  for (const worker of state.workers.values()) {
    if (!state.hasCapacity(worker)) continue;
    workerRule(state.queues.root.size === 0 && !affinityQueued, worker.name, 'has a free slot while unrestricted tasks are queued');
    // A worker looks a bounded way down the restricted queue, so only that far is it bound to find a fit.
    if (state.queues.restricted.size > RESTRICTED_LOOKAHEAD) continue;
    for (const task of state.queues.restricted.liveTasks()) {
      workerRule(!worker.hasFreeResources(task.resources!), worker.name, () => `has a free slot and the resources for queued ${task.key}`);
    }
  }
}

function checkTask(state: SchedulerState, task: TaskState, queueOwners: ReadonlyMap<TaskHeap, WorkerState>): void {
  for (const dependency of task.dependencies) {
    expect(dependency.dependents.has(task), task, () => `missing from dependents of ${dependency.key}`);
    expect(state.tasks.get(dependency.key) === dependency, task, () => `depends on forgotten ${dependency.key}`);
    if (NEEDS_INPUTS.has(task.state)) {
      expect(dependency.waiters.has(task), task, () => `needs ${dependency.key} without claiming it`);
      expect(dependency.state !== 'erred', task, () => `needs ${dependency.key}, which erred`);
    }
  }
  for (const waiter of task.waiters) {
    expect(waiter.dependencies.includes(task), task, () => `waiter ${waiter.key} does not depend on it`);
    expect(NEEDS_INPUTS.has(waiter.state), task, () => `waiter ${waiter.key} is ${waiter.state}`);
  }
  for (const client of task.whoWants) expect(state.clients.get(client.id) === client, task, () => `wanted by gone client ${client.id}`);
  for (const worker of task.whoHas) {
    expect(state.workers.get(worker.id) === worker, task, () => `held by gone worker ${worker.name}`);
    expect(worker.hasWhat.has(task), task, () => `held by ${worker.name}, which does not list it`);
  }
  if (NEEDS_INPUTS.has(task.state)) expect(task.isWanted, task, 'work nobody wants');
  switch (task.state) {
    case 'waiting':
      expect(task.waitingOn.size > 0, task, 'waiting on nothing');
      for (const dependency of task.waitingOn) expect(dependency.state !== 'memory', task, () => `waiting on ${dependency.key} in memory`);
      break;
    case 'queued': {
      expect(task.dependencies.every((dependency) => dependency.state === 'memory'), task, 'ready with inputs not in memory');
      const queue = task.queuedIn;
      const owner = queue === undefined ? undefined : queueOwners.get(queue);
      if (task.resources !== undefined) {
        expect(queue === state.queues.restricted, task, 'restricted but not in the restricted queue');
        expect(state.readyState(task) === 'queued', task, 'queued though no connected worker can run it');
      } else {
        expect(queue === state.queues.root || (owner !== undefined && !owner.closing), task, 'in no live queue');
      }
      break;
    }
    case 'no-worker':
      expect(task.dependencies.every((dependency) => dependency.state === 'memory'), task, 'ready with inputs not in memory');
      expect(state.noWorker.has(task), task, 'no-worker but not in the set');
      expect(state.readyState(task) === 'no-worker', task, 'waits for a worker though one can run it');
      break;
    case 'processing':
      expect(task.processingOn !== undefined && task.processingOn.processing.has(task), task, 'processing nowhere');
      expect(state.workers.get(task.processingOn!.id) === task.processingOn, task, 'processing on a gone worker');
      expect(task.runId > 0, task, 'processing without a run id');
      break;
    case 'memory':
      expect(task.whoHas.size > 0, task, 'in memory on no worker');
      expect(task.isWanted, task, 'in memory though nobody needs it');
      break;
    case 'released':
      expect(!task.isWanted, task, 'released though needed');
      expect(task.dependents.size > 0, task, 'released with no dependents (should be forgotten)');
      break;
    case 'erred':
      break;
    case 'forgotten':
      throw invariant(`forgotten task ${task.key} still in the task table`);
  }
  if (task.state !== 'memory') expect(task.whoHas.size === 0, task, 'has holders outside memory');
  if (task.state !== 'processing') expect(task.processingOn === undefined, task, 'assigned outside processing');
  if (task.state !== 'waiting') expect(task.waitingOn.size === 0, task, 'waits outside waiting');
  expect((task.state === 'queued') === (task.queuedIn !== undefined), task, task.state === 'queued' ? 'queued in no queue' : 'left in a queue');
  expect((task.state === 'erred') === (task.error !== undefined), task, task.state === 'erred' ? 'erred without an error' : 'carries an error');
}

/** A rule is text, or a function making it, so a passing check builds no string. */
type Rule = string | (() => string);

function expect(condition: boolean, task: TaskState, rule: Rule): void {
  if (!condition) throw invariant(`task ${task.key} (${task.state}): ${typeof rule === 'string' ? rule : rule()}`);
}

function workerRule(condition: boolean, worker: string, rule: Rule): void {
  if (!condition) throw invariant(`worker ${worker}: ${typeof rule === 'string' ? rule : rule()}`);
}

function invariant(message: string): LoomError {
  return new LoomError('INTERNAL', `invariant: ${message}`);
}
