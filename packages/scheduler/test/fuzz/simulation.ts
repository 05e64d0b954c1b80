// One randomized run of the scheduler state machine against its clients and workers. The scheduler is the real
// SchedulerState in validate mode, driven as the gRPC shell drives it (instructions batched per destination and
// flushed at the end of an event-loop turn, worker messages turned into stimuli in the shell's order); clients
// are models, workers are models (worker-model.ts) or the real worker state machine (real-worker.ts), answering
// with every delay and reordering the network allows. Each step is one random action; after each, the
// scheduler's view is checked against the workers'. `settle()` then stops the chaos and drives everything to
// rest, where every wanted key must be in memory or erred and nothing may be left running, queued or leaked.
import {
  SchedulerState,
  stimuliFromWorkerReport,
  type Instruction,
  type KeyUpdate,
  type NewTask,
  type StimulusEvent,
} from '../../src/index.js';
import { Random } from '@loom/testing';
import { RealWorker } from './real-worker.js';
import { valueOf, type ExecutingRun, type SchedulerMessage, type SimulatedWorker } from './simulated-worker.js';
import { WorkerModel, type ApplyOrder, type WorkerFlavour } from './worker-model.js';

/** Which workers join: models of a worker, the real worker state machine, or either at random. */
export type WorkerKind = 'model' | 'real' | 'mixed';

export class SimulationFailure extends Error {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
  }
}

interface TaskPlan {
  spec: NewTask;
  /** Chance that a run fails (1: it always does, so the key errs once its retries are spent). */
  failRate: number;
}

interface ClientModel {
  id: string;
  wants: Set<string>;
  /** The last update received per key. */
  last: Map<string, KeyUpdate['state']>;
}

const FUNCTIONS = [
  { id: 'fast', name: 'fast', source: 'x => x' },
  { id: 'slow', name: 'slow', source: 'x => x' },
];
const MAX_WORKERS = 4;
const SILENT = { debug: () => undefined, warn: () => undefined };

export class Simulation {
  readonly state = new SchedulerState({ validate: true, logger: SILENT });
  /** What happened, step by step, when tracing (a failing sequence is replayed with it on). */
  readonly trace: string[] = [];
  step = 0;
  private readonly rng: Random;
  private readonly plans: TaskPlan[];
  private readonly workers = new Map<string, SimulatedWorker>();
  private readonly clients = new Map<string, ClientModel>();
  /** What the shell has queued for each worker during the current event-loop turn. */
  private turn = new Map<string, SchedulerMessage>();
  private stimulusCounter = 0;
  private workerCounter = 0;
  private clientCounter = 0;
  private settling = false;

  constructor(
    readonly seed: number,
    private readonly tracing = false,
    private readonly workerKind: WorkerKind = 'model',
  ) {
    this.rng = new Random(seed);
    this.plans = planGraph(this.rng);
    this.connectClient();
    if (this.rng.chance(0.5)) this.connectClient();
    this.joinWorker();
    this.flushTurn();
  }

  private note(line: () => string): void {
    if (this.tracing) this.trace.push(line());
  }

  // -------------------------------------------------------------------------------------------------------
  // The shell, as scheduler-server.ts drives the state machine
  // -------------------------------------------------------------------------------------------------------

  private handle(event: StimulusEvent): void {
    const stimulusId = `s${++this.stimulusCounter}`;
    this.note(() => `  ${stimulusId} ${describe(event)}`);
    let instructions: Instruction[];
    try {
      instructions = this.state.handleStimulus({ ...event, stimulusId });
    } catch (error) {
      throw this.failure(`handleStimulus threw: ${(error as Error).message}`);
    }
    for (const instruction of instructions) this.execute(instruction);
  }

  private execute(instruction: Instruction): void {
    if (instruction.type === 'client-update') {
      this.note(() => `    -> ${instruction.clientId} ${instruction.update.key}:${instruction.update.state}`);
      this.clientReceives(instruction.clientId, instruction.update);
      return;
    }
    const message = this.turnMessage(instruction.workerId);
    switch (instruction.type) {
      case 'compute': {
        const task = this.state.tasks.get(instruction.key);
        if (task?.runId !== instruction.runId) throw this.failure(`compute of ${instruction.key} run ${instruction.runId}, which is not its run`);
        const inputs = task.dependencies.map((dependency) => ({
          key: dependency.key,
          nbytes: dependency.nbytes,
          holders: [...dependency.whoHas].map((worker) => worker.address),
        }));
        message.compute.push({ key: instruction.key, functionId: task.functionId, runId: instruction.runId, inputs, sendValue: instruction.sendValue });
        this.note(() => `    -> ${instruction.workerId} compute ${instruction.key}#${instruction.runId}`);
        break;
      }
      case 'free-keys':
        message.freeKeys.push(...instruction.keys);
        this.note(() => `    -> ${instruction.workerId} free ${instruction.keys.join(',')}`);
        break;
      case 'cancel-compute':
        message.cancel.push({ key: instruction.key, runId: instruction.runId });
        this.note(() => `    -> ${instruction.workerId} cancel ${instruction.key}#${instruction.runId}`);
        break;
    }
  }

  private turnMessage(workerId: string): SchedulerMessage {
    let message = this.turn.get(workerId);
    if (message === undefined) this.turn.set(workerId, (message = { compute: [], freeKeys: [], cancel: [] }));
    return message;
  }

  /** The end of an event-loop turn: each worker's batch leaves as one message. */
  private flushTurn(): void {
    for (const [workerId, message] of this.turn) this.workers.get(workerId)?.inbox.push(message);
    this.turn = new Map();
  }

  private clientReceives(clientId: string, update: KeyUpdate): void {
    const client = this.clients.get(clientId);
    if (client === undefined) throw this.failure(`update for ${update.key} to disconnected client ${clientId}`);
    if (!client.wants.has(update.key)) throw this.failure(`update for ${update.key} to ${clientId}, which does not want it`);
    if (update.state === 'memory' && update.value !== undefined && !sameBytes(update.value, valueOf(update.key))) {
      throw this.failure(`client ${clientId} got a wrong value for ${update.key}`);
    }
    client.last.set(update.key, update.state);
  }

  // -------------------------------------------------------------------------------------------------------
  // Actions
  // -------------------------------------------------------------------------------------------------------

  /** One random action, then the cross-checks. */
  runStep(): void {
    this.step += 1;
    const action = this.rng.weighted(this.actionWeights());
    this.note(() => `#${this.step} ${action}`);
    this.actions[action]();
    if (this.rng.chance(0.6)) this.flushTurn();
    this.checkViews();
  }

  private actionWeights(): Record<ActionName, number> {
    const alive = [...this.workers.values()];
    const open = alive.filter((worker) => !worker.closing);
    return {
      submit: 3,
      release: 1.5,
      releaseAndResubmit: 1,
      reconnectClient: 0.2,
      joinWorker: alive.length < MAX_WORKERS ? (open.length === 0 ? 3 : 0.6) : 0,
      killWorker: alive.length > 0 ? 0.3 : 0,
      closeWorker: open.length > 0 ? 0.2 : 0,
      leaveWorker: alive.some((worker) => this.canLeave(worker)) ? 1 : 0,
      togglePause: open.length > 0 ? 0.4 : 0,
      deliverToWorker: alive.some((worker) => worker.inbox.length > 0) ? 6 : 0,
      workerStep: alive.some((worker) => worker.steps(this.peer).length > 0) ? 4 : 0,
      finishRun: alive.some((worker) => worker.executing().length > 0) ? 4 : 0,
      loseKey: alive.some((worker) => worker.heldKeys().length > 0) ? 0.3 : 0,
      workerTurn: alive.some((worker) => worker.hasUnsentReports) ? 3 : 0,
      deliverReport: alive.some((worker) => worker.outbox.length > 0) ? 6 : 0,
      flush: this.turn.size > 0 ? 1 : 0,
    };
  }

  private readonly actions: Record<ActionName, () => void> = {
    submit: () => this.submit(this.randomClient()),
    release: () => this.release(this.randomClient()),
    releaseAndResubmit: () => {
      // Both in one turn: the cancel and the new compute of the same key can share one message to the worker.
      const client = this.randomClient();
      const keys = this.rng.subset(client.wants, 0.5);
      if (keys.length === 0) return;
      this.releaseKeys(client, keys);
      this.submitKeys(client, keys);
    },
    reconnectClient: () => {
      const client = this.randomClient();
      this.clients.delete(client.id);
      this.handle({ type: 'client-disconnected', clientId: client.id });
      this.connectClient();
    },
    joinWorker: () => this.joinWorker(),
    killWorker: () => {
      // What it wrote before dying may still arrive: some of its reports, then the loss.
      const worker = this.rng.pick([...this.workers.values()]);
      for (let delivered = this.rng.int(worker.outbox.length + 1); delivered > 0 && worker.outbox.length > 0; delivered--) this.deliverReport(worker);
      this.removeWorker(worker, 'killed');
    },
    closeWorker: () => this.rng.pick([...this.workers.values()].filter((worker) => !worker.closing)).close(),
    leaveWorker: () => this.removeWorker(this.rng.pick([...this.workers.values()].filter((worker) => this.canLeave(worker))), 'stream ended'),
    togglePause: () => {
      const worker = this.rng.pick([...this.workers.values()].filter((candidate) => !candidate.closing));
      worker.setPaused(!worker.paused);
    },
    deliverToWorker: () => this.rng.pick([...this.workers.values()].filter((worker) => worker.inbox.length > 0)).applyNext(),
    workerStep: () => {
      const worker = this.rng.pick([...this.workers.values()].filter((candidate) => candidate.steps(this.peer).length > 0));
      this.takeStep(worker, this.rng.pick(worker.steps(this.peer)));
    },
    finishRun: () => {
      const worker = this.rng.pick([...this.workers.values()].filter((candidate) => candidate.executing().length > 0));
      this.finishRun(worker, this.rng.pick(worker.executing()));
    },
    loseKey: () => {
      const worker = this.rng.pick([...this.workers.values()].filter((candidate) => candidate.heldKeys().length > 0));
      const key = this.rng.pick(worker.heldKeys());
      this.note(() => `  ${worker.id} loses ${key}`);
      worker.loseKey(key);
    },
    workerTurn: () => this.endWorkerTurn(this.rng.pick([...this.workers.values()].filter((worker) => worker.hasUnsentReports))),
    deliverReport: () => this.deliverReport(this.rng.pick([...this.workers.values()].filter((worker) => worker.outbox.length > 0))),
    flush: () => this.flushTurn(),
  };

  private submit(client: ClientModel): void {
    const targets = new Set<string>();
    const count = 1 + this.rng.int(3);
    for (let i = 0; i < count; i++) targets.add(this.rng.pick(this.plans).spec.key);
    this.submitKeys(client, [...targets]);
  }

  private submitKeys(client: ClientModel, keys: string[]): void {
    const needed = new Set<string>();
    const visit = (key: string) => {
      if (needed.has(key)) return;
      needed.add(key);
      for (const dependency of this.plan(key).spec.dependencies) visit(dependency);
    };
    for (const key of keys) visit(key);
    const tasks = this.plans.filter((plan) => needed.has(plan.spec.key)).map((plan) => plan.spec);
    for (const key of keys) client.wants.add(key);
    this.handle({ type: 'update-graph', clientId: client.id, tasks, functions: FUNCTIONS, wanted: keys });
  }

  private release(client: ClientModel): void {
    const keys = this.rng.subset(client.wants, 0.5);
    if (keys.length > 0) this.releaseKeys(client, keys);
  }

  private releaseKeys(client: ClientModel, keys: string[]): void {
    for (const key of keys) {
      client.wants.delete(key);
      client.last.delete(key);
    }
    this.handle({ type: 'release-keys', clientId: client.id, keys });
  }

  private connectClient(): void {
    const id = `c${++this.clientCounter}`;
    this.clients.set(id, { id, wants: new Set(), last: new Map() });
    this.handle({ type: 'client-connected', clientId: id, name: id });
  }

  private randomClient(): ClientModel {
    return this.rng.pick([...this.clients.values()]);
  }

  private joinWorker(gpu = this.rng.chance(0.3)): void {
    const id = `w${++this.workerCounter}`;
    const nthreads = 1 + this.rng.int(3);
    const resources: Record<string, number> = gpu ? { GPU: 1 } : {};
    const real = this.workerKind === 'real' || (this.workerKind === 'mixed' && this.rng.chance(0.5));
    if (real) {
      // Message limits small enough that a turn's reports often need several messages; load budgets from none
      // to a few inputs' worth, so tasks wait for their inputs to load.
      const messageLimitBytes = this.rng.pick([120, 300, 4096, 1 << 20]);
      const loadBudgetBytes = this.rng.pick([Infinity, 60, 200]);
      this.workers.set(id, new RealWorker(id, { nthreads, resources, messageLimitBytes, loadBudgetBytes }));
      this.note(() => `  ${id} is a real worker state machine (messages up to ${messageLimitBytes} bytes, load budget ${loadBudgetBytes})`);
    } else {
      const flavour: WorkerFlavour = this.rng.chance(0.5) ? 'adopt' : 'report-both';
      const order: ApplyOrder = this.rng.chance(0.5) ? 'free-compute-cancel' : 'free-cancel-compute';
      this.workers.set(id, new WorkerModel(id, nthreads, resources, flavour, order));
    }
    this.handle({ type: 'worker-connected', worker: { id, name: id, address: id, nthreads, memoryLimit: 1e9, resources } });
  }

  private readonly peer = (address: string): SimulatedWorker | undefined => this.workers.get(address);

  private takeStep(worker: SimulatedWorker, step: { label: string; take(): void }): void {
    this.note(() => `  ${worker.id} ${step.label}`);
    step.take();
  }

  private endWorkerTurn(worker: SimulatedWorker): void {
    const before = worker.outbox.length;
    worker.endTurn();
    this.note(() => `  ${worker.id} sends ${worker.outbox.length - before} message(s)`);
  }

  /** The worker's process is gone (killed) or its stream ended after a graceful close. */
  private removeWorker(worker: SimulatedWorker, reason: string): void {
    this.workers.delete(worker.id);
    this.turn.delete(worker.id);
    this.handle({ type: 'worker-removed', workerId: worker.id, reason });
  }

  private canLeave(worker: SimulatedWorker): boolean {
    return worker.closing && worker.assignedKeys().length === 0 && worker.outbox.length === 0 && !worker.hasUnsentReports;
  }

  private finishRun(worker: SimulatedWorker, record: ExecutingRun): void {
    const plan = this.plan(record.key);
    // While settling only tasks that always fail still fail, so a flaky one cannot keep the run going forever.
    const fails = this.settling ? plan.failRate >= 1 : this.rng.chance(plan.failRate);
    const nbytes = 8 + this.rng.int(100);
    const durationMs = plan.spec.functionId === 'slow' ? 200 + this.rng.int(800) : this.rng.int(5);
    this.note(() => `  ${worker.id} ${fails ? 'fails' : 'finishes'} ${record.key}#${record.runId}${record.cancelled ? ' (cancelled)' : ''}`);
    worker.finish(record, fails ? 'failure' : 'success', nbytes, durationMs);
  }

  /** Delivers the worker's oldest message (a model may merge the next reports into it, as one turn's). */
  private deliverReport(worker: SimulatedWorker): void {
    const report = worker.takeReport(() => this.rng.chance(this.settling ? 1 : 0.3));
    for (const stimulus of stimuliFromWorkerReport(worker.id, report)) this.handle(stimulus);
  }

  // -------------------------------------------------------------------------------------------------------
  // Checks
  // -------------------------------------------------------------------------------------------------------

  /** What the scheduler believes of each worker must be true of the model, counting what is still in flight. */
  private checkViews(): void {
    for (const worker of this.state.workers.values()) {
      const model = this.workers.get(worker.id);
      if (model === undefined) throw this.failure(`the scheduler lists ${worker.id}, which is gone`);
      const pending = this.turn.get(worker.id);
      for (const task of worker.processing) {
        const queued = pending?.compute.some((compute) => compute.key === task.key && compute.runId === task.runId) ?? false;
        if (!queued && !model.owes(task.key, task.runId)) {
          throw this.failure(`the scheduler waits for ${task.key}#${task.runId} on ${worker.id}, which will never answer it`);
        }
      }
      for (const task of worker.hasWhat) {
        if (!model.holds(task.key) && !model.reportsLost(task.key)) {
          throw this.failure(`the scheduler counts ${task.key} on ${worker.id}, which does not hold it`);
        }
      }
    }
  }

  /** Stops the chaos and drives everything to rest; then checks that every wanted key is settled. */
  settle(): void {
    this.settling = true;
    this.note(() => `#${this.step} settle`);
    this.flushTurn();
    for (const worker of this.workers.values()) if (worker.paused && !worker.closing) worker.setPaused(false);
    const open = [...this.workers.values()].filter((worker) => !worker.closing);
    if (open.length === 0) this.joinWorker(false);
    if (!open.some((worker) => worker.resources['GPU'] !== undefined)) this.joinWorker(true);
    for (let round = 0; ; round++) {
      if (round > 500) throw this.failure('the cluster never came to rest');
      this.flushTurn();
      let moved = false;
      for (const worker of [...this.workers.values()]) {
        while (worker.inbox.length > 0) {
          worker.applyNext();
          moved = true;
        }
        for (let steps = worker.steps(this.peer); steps.length > 0; steps = worker.steps(this.peer)) {
          this.takeStep(worker, steps[0]!);
          moved = true;
        }
        for (const run of worker.executing()) {
          this.finishRun(worker, run);
          moved = true;
        }
      }
      for (const worker of [...this.workers.values()]) {
        if (worker.hasUnsentReports) {
          this.endWorkerTurn(worker);
          moved = true;
        }
        if (worker.outbox.length > 0) {
          this.deliverReport(worker);
          moved = true;
        }
        if (this.canLeave(worker)) {
          this.removeWorker(worker, 'stream ended');
          moved = true;
        }
      }
      this.checkViews();
      if (!moved && this.turn.size === 0) break;
    }
    this.checkAtRest();
  }

  private checkAtRest(): void {
    for (const client of this.clients.values()) {
      for (const key of client.wants) {
        const task = this.state.tasks.get(key);
        if (task?.state !== 'memory' && task?.state !== 'erred') throw this.failure(`${client.id} wants ${key}, which is ${task?.state ?? 'forgotten'} at rest`);
        if (client.last.get(key) !== task.state) {
          throw this.failure(`${client.id} last heard ${key} is ${client.last.get(key) ?? 'nothing'}, but it is ${task.state}`);
        }
      }
    }
    for (const task of this.state.tasks.values()) {
      if (task.state !== 'memory' && task.state !== 'erred' && task.state !== 'released') throw this.failure(`${task.key} is ${task.state} at rest`);
    }
    for (const worker of this.state.workers.values()) {
      const model = this.workers.get(worker.id)!;
      if (model.assignedKeys().length > 0) throw this.failure(`${worker.id} still has runs at rest: ${model.assignedKeys().join(',')}`);
      const counted = [...worker.hasWhat].map((task) => task.key).sort();
      const stored = model.heldKeys().sort();
      if (counted.join() !== stored.join()) throw this.failure(`${worker.id} stores [${stored.join(',')}] but the scheduler counts [${counted.join(',')}]`);
    }
  }

  private plan(key: string): TaskPlan {
    return this.plans.find((plan) => plan.spec.key === key)!;
  }

  private failure(message: string): SimulationFailure {
    return new SimulationFailure(message, this.step);
  }
}

type ActionName =
  | 'submit'
  | 'release'
  | 'releaseAndResubmit'
  | 'reconnectClient'
  | 'joinWorker'
  | 'killWorker'
  | 'closeWorker'
  | 'leaveWorker'
  | 'togglePause'
  | 'deliverToWorker'
  | 'workerStep'
  | 'finishRun'
  | 'loseKey'
  | 'workerTurn'
  | 'deliverReport'
  | 'flush';

/** A random graph of 3-14 tasks with shared dependencies, a few needing a GPU, some flaky or always failing. */
function planGraph(rng: Random): TaskPlan[] {
  const count = 3 + rng.int(12);
  const plans: TaskPlan[] = [];
  for (let index = 0; index < count; index++) {
    const dependencies = new Set<string>();
    const fanIn = index === 0 ? 0 : rng.int(4);
    for (let i = 0; i < fanIn; i++) dependencies.add(`t${rng.int(index)}`);
    const spec: NewTask = {
      key: `t${index}`,
      functionId: rng.chance(0.3) ? 'slow' : 'fast',
      args: new Uint8Array(),
      dependencies: [...dependencies],
      priority: rng.int(2),
      order: index,
      retries: rng.int(3),
      resources: rng.chance(0.1) ? { GPU: 1 } : undefined,
    };
    const failRate = rng.chance(0.05) ? 1 : rng.chance(0.2) ? 0.3 : 0;
    plans.push({ spec, failRate });
  }
  return plans;
}

function describe(event: StimulusEvent): string {
  switch (event.type) {
    case 'update-graph':
      return `update-graph ${event.clientId} wants ${event.wanted.join(',')}`;
    case 'release-keys':
      return `release-keys ${event.clientId} ${event.keys.join(',')}`;
    case 'tasks-finished':
      return `tasks-finished ${event.workerId} ${event.finished.map((result) => `${result.key}#${result.runId}`).join(',')}`;
    case 'task-failed':
    case 'missing-inputs':
      return `${event.type} ${event.workerId} ${event.key}#${event.runId}`;
    case 'worker-connected':
      return `worker-connected ${event.worker.id} (${event.worker.nthreads} threads${event.worker.resources['GPU'] ? ', GPU' : ''})`;
    case 'worker-closing':
      return `worker-closing ${event.workerId} hands back ${event.handedBack.join(',')}`;
    case 'keys-lost':
      return `keys-lost ${event.workerId} ${event.keys.join(',')}`;
    case 'worker-metrics':
      return `worker-metrics ${event.workerId} paused=${event.paused}`;
    case 'worker-removed':
      return `worker-removed ${event.workerId} (${event.reason})`;
    case 'client-connected':
    case 'client-disconnected':
      return `${event.type} ${event.clientId}`;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
