// The scheduler's invariants, checked after every stimulus in validate mode (tests run with it on). A broken
// invariant throws with the task or worker and the rule, so a state-machine bug surfaces at its cause.
import type { SchedulerState } from './scheduler-state.js';
import type { TaskState } from './task-state.js';

export function checkInvariants(state: SchedulerState): void {
  for (const task of state.tasks.values()) checkTask(state, task);
  for (const worker of state.workers.values()) {
    for (const task of worker.processing) {
      expect(task.state === 'processing' && task.processingOn === worker, task, `listed as processing on ${worker.name}`);
    }
    for (const task of worker.hasWhat) expect(task.whoHas.has(worker), task, `listed on ${worker.name} without whoHas`);
    for (const [name, used] of Object.entries(worker.resourcesInUse)) {
      if (used > (worker.resources[name] ?? 0) + 1e-9 || used < -1e-9) {
        throw new Error(`invariant: worker ${worker.name} uses ${used} of resource ${name} (declared ${worker.resources[name] ?? 0})`);
      }
    }
  }
  for (const client of state.clients.values()) {
    for (const task of client.wants) expect(task.whoWants.has(client) && state.tasks.get(task.key) === task, task, 'wanted but unknown');
  }
}

function checkTask(state: SchedulerState, task: TaskState): void {
  const depsInMemory = task.dependencies.every((dependency) => dependency.state === 'memory');
  for (const dependency of task.dependencies) {
    expect(dependency.dependents.has(task), task, `missing from dependents of ${dependency.key}`);
    expect(state.tasks.get(dependency.key) === dependency, task, `depends on forgotten ${dependency.key}`);
  }
  for (const waiter of task.waiters) {
    expect(waiter.dependencies.includes(task), task, `waiter ${waiter.key} does not depend on it`);
    expect(['waiting', 'queued', 'no-worker', 'processing'].includes(waiter.state), task, `waiter ${waiter.key} is ${waiter.state}`);
  }
  switch (task.state) {
    case 'waiting':
      expect(task.waitingOn.size > 0, task, 'waiting on nothing');
      for (const dependency of task.waitingOn) expect(dependency.state !== 'memory', task, `waiting on ${dependency.key} in memory`);
      break;
    case 'queued':
    case 'no-worker':
      expect(depsInMemory, task, 'ready with inputs not in memory');
      break;
    case 'processing':
      expect(task.processingOn !== undefined && task.processingOn.processing.has(task), task, 'processing nowhere');
      break;
    case 'memory':
      expect(task.whoHas.size > 0, task, 'in memory on no worker');
      for (const worker of task.whoHas) expect(state.workers.get(worker.id) === worker, task, `held by gone worker ${worker.name}`);
      break;
    case 'released':
    case 'erred':
      expect(task.whoHas.size === 0 && task.processingOn === undefined, task, 'holds data or runs');
      break;
    case 'forgotten':
      throw new Error(`invariant: forgotten task ${task.key} still in the task table`);
  }
  if (task.state !== 'memory') expect(task.whoHas.size === 0, task, 'has holders outside memory');
  if (task.state !== 'processing') expect(task.processingOn === undefined, task, 'assigned outside processing');
  if (task.state !== 'waiting') expect(task.waitingOn.size === 0, task, 'waits outside waiting');
  if (task.state === 'no-worker') expect(state.noWorker.has(task), task, 'no-worker but not in the set');
}

function expect(condition: boolean, task: TaskState, rule: string): void {
  if (!condition) throw new Error(`invariant: task ${task.key} (${task.state}): ${rule}`);
}
