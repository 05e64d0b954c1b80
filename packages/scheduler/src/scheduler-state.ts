// The scheduler as a pure state machine: `handleStimulus(event)` is the one entry point that mutates state; it
// returns instructions (work for workers, updates for clients) and does no I/O. A task changes state only in
// `transition`, through an edge of the TRANSITIONS table (transitions.ts); an edge the table lacks is an error.
import { createLogger, LoomError, type Logger } from '@loom/protocol';
import { ClientState } from './client-state.js';
import { validateFunctions, validateGraph } from './graph-validation.js';
import { checkInvariants } from './invariants.js';
import { ReadyQueues } from './ready-queues.js';
import { TaskActivity } from './task-activity.js';
import type { FailedTask, FinishedTask, Instruction, MissingInputs, NewTask, RunId, Stimulus, WorkerAnnouncement } from './stimuli.js';
import { TaskPrefix, TaskState, type FunctionDefinition, type TaskError, type TaskStateName } from './task-state.js';
import { TRANSITIONS, type EdgeArgs, type TransitionHost } from './transitions.js';
import { WorkerState } from './worker-state.js';

export interface SchedulerConfig {
  /** Check every invariant after each stimulus, and throw on an edge the transition table lacks (tests). */
  validate?: boolean;
  /** A task errs with KILLED_WORKER once this many workers died while running it. */
  allowedFailures?: number;
  /**
   * Work sent to a worker beyond one task per thread, measured in expected seconds per thread (default 0.1). A
   * thread that finishes a task then starts the next at once instead of waiting for the round trip of refilling
   * it (5-15 ms on a loaded machine: a fifth of the run time of a 2 MiB CSV block); tasks longer than this stay
   * in the scheduler, one per thread, where an idle worker can still take them (Dask's worker-saturation plays
   * the same part).
   */
  bufferSecondsPerThread?: number;
  /** Hard cap on tasks in flight per worker thread, whatever their expected duration. */
  maxTasksPerThread?: number;
  /** Expected duration of a task whose kind has never run (Dask's default too). */
  unknownTaskSeconds?: number;
  /** Called on every transition (the shell logs them at debug level). */
  onTransition?: (key: string, from: TaskStateName, to: TaskStateName, stimulusId: string) => void;
  /** Where stale reports (debug) and impossible transitions outside validate mode (warn) are logged. */
  logger?: Pick<Logger, 'debug' | 'warn'>;
}

interface Recommendation {
  task: TaskState;
  to: TaskStateName;
}

const NO_ARGS: EdgeArgs = {};

export class SchedulerState implements TransitionHost {
  readonly tasks = new Map<string, TaskState>();
  readonly workers = new Map<string, WorkerState>();
  readonly clients = new Map<string, ClientState>();
  readonly functions = new Map<string, FunctionDefinition>();
  readonly queues = new ReadyQueues(this.workers);
  /** Ready tasks that need resources no connected worker has. */
  readonly noWorker = new Set<TaskState>();
  /** Statistics and state counts per kind of task, by function id. */
  readonly prefixes = new Map<string, TaskPrefix>();
  /** Recent task events and running totals for the dashboard (O(1) per report). */
  readonly activity = new TaskActivity();
  /** Workers that may have a free slot; assignment visits only these. */
  private readonly maybeIdle = new Set<WorkerState>();
  private readonly workersByAddress = new Map<string, WorkerState>();
  private generation = 0;
  private lastRunId = 0;
  private instructions: Instruction[] = [];
  private readonly recommendations: Recommendation[] = [];
  private stimulusId = '';
  readonly config: Required<Omit<SchedulerConfig, 'onTransition'>> & Pick<SchedulerConfig, 'onTransition'>;

  constructor(config: SchedulerConfig = {}) {
    this.config = {
      validate: config.validate ?? false,
      allowedFailures: config.allowedFailures ?? 3,
      bufferSecondsPerThread: config.bufferSecondsPerThread ?? 0.1,
      maxTasksPerThread: config.maxTasksPerThread ?? 512,
      unknownTaskSeconds: config.unknownTaskSeconds ?? 0.5,
      onTransition: config.onTransition,
      logger: config.logger ?? createLogger('scheduler'),
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // The entry point
  // -------------------------------------------------------------------------------------------------------

  /**
   * Applies one event and returns what the shell must do. Throws a LoomError, having changed nothing, when an
   * `update-graph` is invalid.
   */
  handleStimulus(stimulus: Stimulus): Instruction[] {
    this.instructions = [];
    this.recommendations.length = 0;
    this.stimulusId = stimulus.stimulusId;
    switch (stimulus.type) {
      case 'client-connected':
        this.clients.set(stimulus.clientId, new ClientState(stimulus.clientId, stimulus.name));
        break;
      case 'client-disconnected':
        this.clientDisconnected(stimulus.clientId);
        break;
      case 'update-graph':
        this.updateGraph(stimulus.clientId, stimulus.tasks, stimulus.functions, stimulus.wanted);
        break;
      case 'release-keys':
        this.releaseKeys(stimulus.clientId, stimulus.keys);
        break;
      case 'worker-connected':
        this.workerConnected(stimulus.worker);
        break;
      case 'worker-removed':
        this.removeWorker(stimulus.workerId);
        break;
      case 'worker-closing':
        this.workerClosing(stimulus.workerId, stimulus.handedBack);
        break;
      case 'tasks-finished':
        this.tasksFinished(stimulus.workerId, stimulus.finished);
        break;
      case 'task-failed':
        this.taskFailed(stimulus.workerId, stimulus);
        break;
      case 'missing-inputs':
        this.missingInputs(stimulus.workerId, stimulus);
        break;
      case 'keys-lost':
        this.keysLost(stimulus.workerId, stimulus.keys);
        break;
      case 'worker-metrics':
        this.workerMetrics(stimulus);
        break;
    }
    this.processRecommendations();
    this.assignWork();
    if (this.config.validate) checkInvariants(this);
    return this.instructions;
  }

  // -------------------------------------------------------------------------------------------------------
  // Stimulus handlers
  // -------------------------------------------------------------------------------------------------------

  private updateGraph(clientId: string, tasks: NewTask[], functions: FunctionDefinition[], wanted: string[]): void {
    const client = this.clients.get(clientId);
    if (client === undefined) throw new LoomError('UNKNOWN_CLIENT', `client '${clientId}' has no open session`);
    const offered = new Map(functions.map((fn) => [fn.id, fn]));
    validateFunctions(functions, (id) => this.functions.get(id) ?? offered.get(id));
    const ordered = validateGraph(tasks, this.tasks, (id) => this.functions.has(id) || offered.has(id), wanted);
    for (const fn of functions) if (!this.functions.has(fn.id)) this.functions.set(fn.id, fn);
    const generation = ++this.generation;
    for (const spec of ordered) {
      const dependencies = spec.dependencies.map((key) => this.tasks.get(key)!);
      const task = new TaskState(
        spec.key,
        spec.functionId,
        spec.args,
        dependencies,
        spec.priority,
        generation,
        spec.order,
        spec.retries,
        spec.resources && Object.keys(spec.resources).length > 0 ? spec.resources : undefined,
        this.prefixFor(spec.functionId),
      );
      task.prefix.states.released += 1;
      for (const dependency of dependencies) {
        dependency.dependents.add(task);
        if (dependency.prefix !== task.prefix) task.prefix.dependsOn.add(dependency.prefix);
      }
      this.tasks.set(spec.key, task);
    }
    for (const key of wanted) {
      const task = this.tasks.get(key)!;
      if (task.whoWants.has(client)) continue;
      task.whoWants.add(client);
      client.wants.add(task);
      if (task.state === 'released') this.recommend(task, 'waiting');
      else if (task.state === 'memory') this.reportMemory(task, client, undefined);
      else if (task.state === 'erred') this.emit({ type: 'client-update', stimulusId: this.stimulusId, clientId, update: { state: 'erred', key, error: task.error! } });
    }
  }

  private releaseKeys(clientId: string, keys: string[]): void {
    const client = this.clients.get(clientId);
    if (client === undefined) return;
    for (const key of keys) {
      const task = this.tasks.get(key);
      if (task === undefined || !task.whoWants.delete(client)) continue;
      client.wants.delete(task);
      if (!task.isWanted) this.recommend(task, 'released');
    }
  }

  private clientDisconnected(clientId: string): void {
    const client = this.clients.get(clientId);
    if (client === undefined) return;
    this.clients.delete(clientId);
    for (const task of client.wants) {
      task.whoWants.delete(client);
      if (!task.isWanted) this.recommend(task, 'released');
    }
    client.wants.clear();
  }

  private workerConnected(announcement: WorkerAnnouncement): void {
    const worker = new WorkerState(
      announcement.id,
      announcement.name,
      announcement.address,
      Math.max(1, announcement.nthreads),
      announcement.memoryLimit,
      announcement.resources,
    );
    this.workers.set(worker.id, worker);
    this.workersByAddress.set(worker.address, worker);
    this.maybeIdle.add(worker);
    for (const task of this.noWorker) if (worker.canEverRun(task.resources ?? {})) this.recommend(task, 'queued');
  }

  private removeWorker(workerId: string): void {
    const worker = this.workers.get(workerId);
    if (worker === undefined) return;
    this.workers.delete(workerId);
    this.workersByAddress.delete(worker.address);
    this.maybeIdle.delete(worker);
    for (const task of [...worker.processing]) {
      task.suspicious += 1;
      if (task.suspicious < this.config.allowedFailures) {
        this.transition(task, 'released', { workerLetGo: true });
        continue;
      }
      const error: TaskError = {
        code: 'KILLED_WORKER',
        message:
          `task '${task.key}' was running on ${task.suspicious} workers that died; it is probably what kills them ` +
          `(out of memory, a native crash, process.exit). Giving up instead of killing more.`,
        stack: '',
        errorName: 'KilledWorker',
        taskKey: task.key,
        worker: worker.address,
      };
      this.transition(task, 'erred', { error, workerLetGo: true });
    }
    for (const task of worker.hasWhat) {
      task.whoHas.delete(worker);
      if (task.whoHas.size === 0 && task.state === 'memory') this.recommend(task, 'released');
    }
    worker.hasWhat.clear();
    this.queues.rehome(worker);
    this.recheckRestrictedTasks();
  }

  private workerClosing(workerId: string, handedBack: string[]): void {
    const worker = this.workers.get(workerId);
    if (worker === undefined) return;
    worker.closing = true;
    this.maybeIdle.delete(worker);
    for (const key of handedBack) {
      const task = this.tasks.get(key);
      if (task?.state === 'processing' && task.processingOn === worker) this.transition(task, 'released', { workerLetGo: true });
    }
    this.queues.rehome(worker);
    this.recheckRestrictedTasks();
  }

  private tasksFinished(workerId: string, finished: FinishedTask[]): void {
    const worker = this.workers.get(workerId);
    if (worker === undefined) return;
    const now = this.activity.now();
    for (const result of finished) {
      const task = this.tasks.get(result.key);
      if (task !== undefined && this.isCurrentRun(task, worker, result.runId)) {
        this.activity.finished(worker.id, result.thread, task.prefix, result.durationMs, now);
        this.transition(task, 'memory', { worker, result });
      } else if (task?.state === 'memory' && task.whoHas.has(worker)) {
        // A repeated report of the value we already count on; nothing changes.
      } else if (task?.processingOn === worker) {
        // An earlier run of a key this worker runs again: its report of the current run is still to come, and
        // freeing the value now could delete the very value that report will announce.
        this.staleReport(worker, result.key, result.runId, task);
      } else {
        // A cancelled run, a run reassigned elsewhere, or a forgotten key: the value is nobody's; drop it there.
        this.staleReport(worker, result.key, result.runId, task);
        this.emitFree(worker, [result.key]);
      }
    }
  }

  private taskFailed(workerId: string, failure: FailedTask): void {
    const worker = this.workers.get(workerId);
    const task = this.tasks.get(failure.key);
    if (worker === undefined) return;
    if (task === undefined || !this.isCurrentRun(task, worker, failure.runId)) {
      this.staleReport(worker, failure.key, failure.runId, task);
      return;
    }
    this.activity.failed(worker.id, failure.thread, task.key, task.prefix, failure.error, this.activity.now());
    if (task.retriesLeft > 0) {
      task.retriesLeft -= 1;
      this.transition(task, 'released', { workerLetGo: true });
    } else {
      this.transition(task, 'erred', { error: failure.error, workerLetGo: true });
    }
  }

  private missingInputs(workerId: string, report: MissingInputs): void {
    const worker = this.workers.get(workerId);
    const task = this.tasks.get(report.key);
    if (worker === undefined) return;
    if (task === undefined || !this.isCurrentRun(task, worker, report.runId)) {
      this.staleReport(worker, report.key, report.runId, task);
      return;
    }
    for (const missingKey of report.missingKeys) {
      const dependency = this.tasks.get(missingKey);
      // Run ids come from one counter: an input whose value came from a run newer than this task's run was
      // recomputed after the task was sent its holders, so the report is about a copy that is gone already and
      // says nothing of the current one (dropping it would make two such tasks free each other's input forever).
      if (dependency === undefined || dependency.runId > task.runId) continue;
      for (const address of report.failedHolders) {
        const holder = this.workersByAddress.get(address);
        if (holder === undefined || !dependency.whoHas.delete(holder)) continue;
        holder.hasWhat.delete(dependency);
        // It may still hold a copy it could not serve; make sure that copy does not linger unaccounted.
        this.emitFree(holder, [missingKey]);
      }
      if (dependency.whoHas.size === 0 && dependency.state === 'memory') this.transition(dependency, 'released');
    }
    this.transition(task, 'released', { workerLetGo: true });
  }

  private keysLost(workerId: string, keys: string[]): void {
    const worker = this.workers.get(workerId);
    if (worker === undefined) return;
    for (const key of keys) {
      const task = this.tasks.get(key);
      if (task === undefined || !task.whoHas.delete(worker)) continue;
      worker.hasWhat.delete(task);
      if (task.whoHas.size === 0 && task.state === 'memory') this.recommend(task, 'released');
    }
  }

  private workerMetrics(metrics: Stimulus & { type: 'worker-metrics' }): void {
    const worker = this.workers.get(metrics.workerId);
    if (worker === undefined) return;
    const wasPaused = worker.metrics.paused;
    worker.metrics = {
      managedBytes: metrics.managedBytes,
      spilledBytes: metrics.spilledBytes,
      rssBytes: metrics.rssBytes,
      paused: metrics.paused,
    };
    if (wasPaused && !metrics.paused && !worker.closing) this.maybeIdle.add(worker);
  }

  /** Whether a report of `runId` from `worker` answers the key's current run (run ids start at 1: 0 answers none). */
  private isCurrentRun(task: TaskState, worker: WorkerState, runId: RunId): boolean {
    return task.state === 'processing' && task.processingOn === worker && runId === task.runId;
  }

  private staleReport(worker: WorkerState, key: string, runId: RunId, task: TaskState | undefined): void {
    this.config.logger.debug(
      { worker: worker.id, key, runId, currentRun: task?.runId, state: task?.state ?? 'forgotten', stimulusId: this.stimulusId },
      'stale report ignored',
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Transitions
  // -------------------------------------------------------------------------------------------------------

  /**
   * Suggests a transition, applied later in the same step (last suggested, first applied). By then the task may
   * have moved on: the suggestion is applied to the state it is in then, through an edge a recommendation may
   * take (one with a guard), and only if the guard says its reason still holds; otherwise it is dropped.
   */
  recommend(task: TaskState, to: TaskStateName): void {
    // An impossible recommendation is reported where it is made (only a stale one is dropped quietly, later).
    if (task.state !== to && TRANSITIONS[task.state][to]?.guard === undefined) this.impossibleTransition(task, task.state, to);
    this.recommendations.push({ task, to });
  }

  private processRecommendations(): void {
    const pending = this.recommendations;
    while (pending.length > 0) {
      const { task, to } = pending.pop()!;
      if (task.state === to) continue;
      const guard = TRANSITIONS[task.state][to]?.guard;
      if (guard !== undefined && guard(task, this)) this.transition(task, to);
    }
  }

  /** The only place a task changes state: through a table edge, traced; any other edge is an error. */
  transition(task: TaskState, to: TaskStateName, args: EdgeArgs = NO_ARGS): void {
    const from = task.state;
    const edge = TRANSITIONS[from][to];
    if (edge === undefined) {
      this.impossibleTransition(task, from, to);
      return;
    }
    task.state = to;
    task.prefix.states[from] -= 1;
    task.prefix.states[to] += 1;
    edge.apply(task, this, from, args);
    this.config.onTransition?.(task.key, from, to, this.stimulusId);
  }

  private impossibleTransition(task: TaskState, from: TaskStateName, to: TaskStateName): void {
    const message = `impossible transition ${from} -> ${to} for task '${task.key}' (stimulus ${this.stimulusId})`;
    if (this.config.validate) throw new LoomError('INTERNAL', message);
    this.config.logger.warn({ key: task.key, from, to, stimulusId: this.stimulusId }, message);
  }

  // -------------------------------------------------------------------------------------------------------
  // Services the transitions use (TransitionHost); public for transitions.ts, not for callers of the state
  // -------------------------------------------------------------------------------------------------------

  emit(instruction: Instruction): void {
    this.instructions.push(instruction);
  }

  get currentStimulusId(): string {
    return this.stimulusId;
  }

  nextRunId(): RunId {
    return ++this.lastRunId;
  }

  isConnected(worker: WorkerState): boolean {
    return this.workers.get(worker.id) === worker;
  }

  /**
   * Tells a worker to drop values. Never for a key the scheduler counts on that worker, or runs there: the free
   * would arrive after the compute and delete the value its report announces.
   */
  emitFree(worker: WorkerState, keys: string[]): void {
    if (!this.isConnected(worker)) return;
    if (this.config.validate) {
      for (const key of keys) {
        const task = this.tasks.get(key);
        if (task?.processingOn === worker || task?.whoHas.has(worker)) {
          throw new LoomError('INTERNAL', `free of '${key}' sent to ${worker.name}, which ${task.processingOn === worker ? 'runs' : 'holds'} it (stimulus ${this.stimulusId})`);
        }
      }
    }
    this.emit({ type: 'free-keys', stimulusId: this.stimulusId, workerId: worker.id, keys });
  }

  /** The worker stops counting `task` as running; it may have a free slot now. */
  detachFromWorker(task: TaskState): void {
    const worker = task.processingOn;
    if (worker === undefined) return;
    worker.processing.delete(task);
    worker.occupancy = worker.processing.size === 0 ? 0 : worker.occupancy - task.expectedSeconds;
    if (task.resources !== undefined) worker.acquireResources(task.resources, -1);
    task.processingOn = undefined;
    if (this.isConnected(worker) && !worker.closing) this.maybeIdle.add(worker);
  }

  reportMemory(task: TaskState, client: ClientState, result: FinishedTask | undefined): void {
    const holders: string[] = [];
    for (const worker of task.whoHas) holders.push(worker.address);
    this.emit({
      type: 'client-update',
      stimulusId: this.stimulusId,
      clientId: client.id,
      update: { state: 'memory', key: task.key, nbytes: task.nbytes, codec: result?.codec ?? 0, value: result?.value, holders },
    });
  }

  readyState(task: TaskState): 'queued' | 'no-worker' {
    if (task.resources === undefined) return 'queued';
    for (const worker of this.workers.values()) if (!worker.closing && worker.canEverRun(task.resources)) return 'queued';
    return 'no-worker';
  }

  /** Restricted tasks no connected worker can run any more wait in no-worker. */
  private recheckRestrictedTasks(): void {
    for (const task of this.queues.restricted.liveTasks()) {
      if (this.readyState(task) === 'no-worker') this.transition(task, 'no-worker');
    }
  }

  private prefixFor(functionId: string): TaskPrefix {
    let prefix = this.prefixes.get(functionId);
    if (prefix === undefined) this.prefixes.set(functionId, (prefix = new TaskPrefix(functionId, this.functions.get(functionId)?.name ?? functionId)));
    return prefix;
  }

  // -------------------------------------------------------------------------------------------------------
  // Handing out work: a worker is sent tasks while it has a free slot (see hasCapacity)
  // -------------------------------------------------------------------------------------------------------

  private assignWork(): void {
    for (const worker of this.maybeIdle) {
      while (this.hasCapacity(worker)) {
        const task = this.queues.takeFor(worker);
        if (task === undefined) break;
        this.transition(task, 'processing', { worker });
      }
      if (!this.hasCapacity(worker)) this.maybeIdle.delete(worker);
    }
  }

  /**
   * A worker always gets one task per thread; beyond that it gets more only while the expected run time of what
   * it holds is under bufferSecondsPerThread per thread, so short tasks do not wait on round trips while long or
   * memory-hungry root tasks stay queued here (memory stays bounded for wide graphs).
   */
  hasCapacity(worker: WorkerState): boolean {
    if (worker.closing || worker.metrics.paused) return false;
    const inFlight = worker.processing.size;
    if (inFlight < worker.nthreads) return true;
    if (inFlight >= worker.nthreads * this.config.maxTasksPerThread) return false;
    return worker.occupancy < worker.nthreads * this.config.bufferSecondsPerThread;
  }

  // -------------------------------------------------------------------------------------------------------
  // Queries
  // -------------------------------------------------------------------------------------------------------

  workerByAddress(address: string): WorkerState | undefined {
    return this.workersByAddress.get(address);
  }

  taskCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const task of this.tasks.values()) counts[task.state] = (counts[task.state] ?? 0) + 1;
    return counts;
  }
}
