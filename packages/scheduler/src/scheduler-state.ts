// The scheduler as a pure state machine: `handleStimulus(event)` is the one entry point that mutates state; it
// returns instructions (work for workers, updates for clients) and does no I/O. Transitions come from one table
// keyed by (from, to); each handler keeps the invariants that `validate` mode checks after every stimulus.
import { LoomError } from '@loom/protocol';
import { ClientState } from './client-state.js';
import { validateFunctions, validateGraph } from './graph-validation.js';
import type { FinishedTask, Instruction, NewTask, Stimulus, WorkerAnnouncement } from './stimuli.js';
import { TaskHeap } from './task-heap.js';
import {
  runsBefore,
  TaskPrefix,
  TaskState,
  type FunctionDefinition,
  type TaskError,
  type TaskStateName,
} from './task-state.js';
import { WorkerState } from './worker-state.js';
import { checkInvariants } from './invariants.js';

export interface SchedulerConfig {
  /** Check every invariant after each stimulus (tests). */
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
}

type Handler = (this: SchedulerState, task: TaskState) => void;

/** Tasks in these states need their dependencies' data. */
const NEEDS_INPUTS: ReadonlySet<TaskStateName> = new Set(['waiting', 'queued', 'no-worker', 'processing']);

export class SchedulerState {
  readonly tasks = new Map<string, TaskState>();
  readonly workers = new Map<string, WorkerState>();
  readonly clients = new Map<string, ClientState>();
  readonly functions = new Map<string, FunctionDefinition>();
  /** Unrestricted ready tasks that have no worker preference. */
  readonly rootQueue = new TaskHeap();
  /** Ready tasks that need resources (e.g. GPU). */
  readonly restrictedQueue = new TaskHeap();
  readonly noWorker = new Set<TaskState>();
  private readonly prefixes = new Map<string, TaskPrefix>();
  /** Workers that may have a free slot; assignment visits only these. */
  private readonly maybeIdle = new Set<WorkerState>();
  private readonly workersByAddress = new Map<string, WorkerState>();
  private generation = 0;
  private instructions: Instruction[] = [];
  private readonly recommendations: Array<[TaskState, TaskStateName]> = [];
  private stimulusId = '';
  private readonly config: Required<Omit<SchedulerConfig, 'onTransition'>> & Pick<SchedulerConfig, 'onTransition'>;

  constructor(config: SchedulerConfig = {}) {
    this.config = {
      validate: config.validate ?? false,
      allowedFailures: config.allowedFailures ?? 3,
      bufferSecondsPerThread: config.bufferSecondsPerThread ?? 0.1,
      maxTasksPerThread: config.maxTasksPerThread ?? 512,
      unknownTaskSeconds: config.unknownTaskSeconds ?? 0.5,
      onTransition: config.onTransition,
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
        this.taskFailed(stimulus.workerId, stimulus.key, stimulus.error);
        break;
      case 'missing-inputs':
        this.missingInputs(stimulus.workerId, stimulus.key, stimulus.missingKeys, stimulus.failedHolders);
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
      for (const dependency of dependencies) dependency.dependents.add(task);
      this.tasks.set(spec.key, task);
    }
    for (const key of wanted) {
      const task = this.tasks.get(key)!;
      if (task.whoWants.has(client)) continue;
      task.whoWants.add(client);
      client.wants.add(task);
      if (task.state === 'released') this.recommend(task, 'waiting');
      else if (task.state === 'memory') this.reportMemory(task, client, undefined);
      else if (task.state === 'erred') this.emit({ type: 'client-update', client, update: { state: 'erred', key, error: task.error! } });
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
      this.detachFromWorker(task);
      task.suspicious += 1;
      if (task.suspicious >= this.config.allowedFailures) {
        task.error = {
          code: 'KILLED_WORKER',
          message:
            `task '${task.key}' was running on ${task.suspicious} workers that died; it is probably what kills them ` +
            `(out of memory, a native crash, process.exit). Giving up instead of killing more.`,
          stack: '',
          errorName: 'KilledWorker',
          taskKey: task.key,
          worker: worker.address,
        };
        this.recommend(task, 'erred');
      } else {
        this.recommend(task, 'released');
      }
    }
    for (const task of worker.hasWhat) {
      task.whoHas.delete(worker);
      if (task.whoHas.size === 0 && task.state === 'memory') this.recommend(task, 'released');
    }
    worker.hasWhat.clear();
    this.rehomeQueue(worker);
    this.recheckRestrictedTasks();
  }

  private workerClosing(workerId: string, handedBack: string[]): void {
    const worker = this.workers.get(workerId);
    if (worker === undefined) return;
    worker.closing = true;
    this.maybeIdle.delete(worker);
    for (const key of handedBack) {
      const task = this.tasks.get(key);
      if (task?.state !== 'processing' || task.processingOn !== worker) continue;
      this.detachFromWorker(task);
      this.recommend(task, 'released');
    }
    this.rehomeQueue(worker);
  }

  private tasksFinished(workerId: string, finished: FinishedTask[]): void {
    const worker = this.workers.get(workerId);
    if (worker === undefined) return;
    for (const result of finished) {
      const task = this.tasks.get(result.key);
      if (task?.state === 'processing') {
        // Normally it runs here; if it was rescheduled elsewhere meanwhile, this result is just as good.
        const elsewhere = task.processingOn;
        if (elsewhere !== undefined && elsewhere !== worker) this.emit({ type: 'cancel-key', worker: elsewhere, key: task.key });
        this.processingToMemory(task, worker, result);
      } else if (task?.state === 'memory' && task.whoHas.has(worker)) {
        // A repeated report; nothing changes.
      } else if (task?.state === 'memory' && task.isWanted) {
        // A second copy (the task ran twice after a reschedule): keep it as a replica.
        task.whoHas.add(worker);
        worker.hasWhat.add(task);
      } else {
        this.emit({ type: 'free-keys', worker, keys: [result.key] });
      }
    }
  }

  private taskFailed(workerId: string, key: string, error: TaskError): void {
    const worker = this.workers.get(workerId);
    const task = this.tasks.get(key);
    if (worker === undefined || task?.state !== 'processing' || task.processingOn !== worker) return;
    this.detachFromWorker(task);
    if (task.retriesLeft > 0) {
      task.retriesLeft -= 1;
      this.recommend(task, 'released');
    } else {
      task.error = error;
      this.recommend(task, 'erred');
    }
  }

  private missingInputs(workerId: string, key: string, missingKeys: string[], failedHolders: string[]): void {
    const worker = this.workers.get(workerId);
    const task = this.tasks.get(key);
    if (worker === undefined || task?.state !== 'processing' || task.processingOn !== worker) return;
    this.detachFromWorker(task);
    for (const missingKey of missingKeys) {
      const dependency = this.tasks.get(missingKey);
      if (dependency === undefined) continue;
      for (const address of failedHolders) {
        const holder = this.workersByAddress.get(address);
        if (holder === undefined || !dependency.whoHas.delete(holder)) continue;
        holder.hasWhat.delete(dependency);
        // It may still hold a copy it could not serve; make sure that copy does not linger unaccounted.
        this.emit({ type: 'free-keys', worker: holder, keys: [missingKey] });
      }
      if (dependency.whoHas.size === 0 && dependency.state === 'memory') this.recommend(dependency, 'released');
    }
    this.recommend(task, 'released');
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
    if (wasPaused && !metrics.paused) this.maybeIdle.add(worker);
  }

  // -------------------------------------------------------------------------------------------------------
  // Transitions
  // -------------------------------------------------------------------------------------------------------

  private recommend(task: TaskState, to: TaskStateName): void {
    this.recommendations.push([task, to]);
  }

  private processRecommendations(): void {
    const pending = this.recommendations;
    while (pending.length > 0) {
      const [task, to] = pending.pop()!;
      this.transition(task, to);
    }
  }

  private transition(task: TaskState, to: TaskStateName): void {
    const from = task.state;
    if (from === to || from === 'forgotten') return;
    const handler = TRANSITIONS[from][to];
    if (handler !== undefined) {
      handler.call(this, task);
      if (task.state !== from) this.config.onTransition?.(task.key, from, task.state, this.stimulusId);
      return;
    }
    // Routes through 'released' where the table has no direct edge and going through it loses nothing needed.
    if (to === 'forgotten' && (from === 'memory' || from === 'erred' || from === 'waiting' || from === 'queued' || from === 'no-worker')) {
      this.transition(task, 'released');
      this.transition(task, 'forgotten');
    }
    // Anything else is a stale recommendation (the task moved on since it was made): ignore it.
  }

  private releasedToWaiting(task: TaskState): void {
    if (!task.isWanted) return;
    task.state = 'waiting';
    let failed: TaskState | undefined;
    for (const dependency of task.dependencies) {
      dependency.waiters.add(task);
      if (dependency.state === 'memory') continue;
      if (dependency.state === 'erred') failed ??= dependency;
      task.waitingOn.add(dependency);
      if (dependency.state === 'released') this.recommend(dependency, 'waiting');
    }
    if (failed !== undefined) {
      task.error = failed.error;
      this.recommend(task, 'erred');
    } else if (task.waitingOn.size === 0) {
      this.recommend(task, this.readyState(task));
    }
  }

  private toQueued(task: TaskState): void {
    if (task.state === 'no-worker') this.noWorker.delete(task);
    task.state = 'queued';
    if (task.resources !== undefined) {
      this.restrictedQueue.push(task);
    } else if (task.dependencies.length === 0) {
      this.rootQueue.push(task);
    } else {
      const preferred = this.preferredWorker(task);
      (preferred?.affinityQueue ?? this.rootQueue).push(task);
    }
  }

  private waitingToNoWorker(task: TaskState): void {
    task.state = 'no-worker';
    this.noWorker.add(task);
  }

  /** A queued task whose input was lost goes back to waiting, keeping its claim on its dependencies. */
  private readyToWaiting(task: TaskState): void {
    this.noWorker.delete(task);
    task.queueStamp += 1;
    task.state = 'waiting';
    for (const dependency of task.dependencies) {
      if (dependency.state === 'memory') continue;
      task.waitingOn.add(dependency);
      if (dependency.state === 'released') this.recommend(dependency, 'waiting');
    }
    if (task.waitingOn.size === 0) this.recommend(task, this.readyState(task));
  }

  private processingToMemory(task: TaskState, worker: WorkerState, result: FinishedTask): void {
    this.detachFromWorker(task);
    task.prefix.recordDuration(result.durationMs / 1000);
    task.nbytes = result.nbytes;
    task.whoHas.add(worker);
    worker.hasWhat.add(task);
    task.state = 'memory';
    this.config.onTransition?.(task.key, 'processing', 'memory', this.stimulusId);
    for (const client of task.whoWants) this.reportMemory(task, client, result);
    for (const dependent of task.dependents) {
      if (dependent.state === 'waiting' && dependent.waitingOn.delete(task) && dependent.waitingOn.size === 0) {
        this.recommend(dependent, this.readyState(dependent));
      }
    }
    this.dropClaimsOnDependencies(task);
    if (!task.isWanted) this.recommend(task, 'released');
  }

  private memoryToReleased(task: TaskState): void {
    const holders = [...task.whoHas];
    for (const worker of holders) {
      worker.hasWhat.delete(task);
      if (this.workers.has(worker.id)) this.emit({ type: 'free-keys', worker, keys: [task.key] });
    }
    task.whoHas.clear();
    task.state = 'released';
    for (const waiter of task.waiters) {
      if (waiter.state === 'waiting') waiter.waitingOn.add(task);
      else if (waiter.state === 'queued' || waiter.state === 'no-worker') this.recommend(waiter, 'waiting');
      // A processing waiter either fetched the data already or will report it missing.
    }
    this.afterRelease(task);
  }

  private waitingToReleased(task: TaskState): void {
    task.waitingOn.clear();
    task.state = 'released';
    this.dropClaimsOnDependencies(task);
    this.afterRelease(task);
  }

  private readyToReleased(task: TaskState): void {
    this.noWorker.delete(task);
    task.queueStamp += 1;
    task.state = 'released';
    this.dropClaimsOnDependencies(task);
    this.afterRelease(task);
  }

  private processingToReleased(task: TaskState): void {
    const worker = task.processingOn;
    if (worker !== undefined) {
      this.detachFromWorker(task);
      this.emit({ type: 'cancel-key', worker, key: task.key });
    }
    task.state = 'released';
    this.dropClaimsOnDependencies(task);
    this.afterRelease(task);
  }

  private toErred(task: TaskState): void {
    const from = task.state;
    if (from === 'processing' && task.processingOn !== undefined) {
      const worker = task.processingOn;
      this.detachFromWorker(task);
      this.emit({ type: 'cancel-key', worker, key: task.key });
    }
    if (from === 'queued' || from === 'no-worker') {
      this.noWorker.delete(task);
      task.queueStamp += 1;
    }
    task.waitingOn.clear();
    task.state = 'erred';
    this.dropClaimsOnDependencies(task);
    const error = task.error!;
    for (const client of task.whoWants) this.emit({ type: 'client-update', client, update: { state: 'erred', key: task.key, error } });
    for (const dependent of task.dependents) {
      if (NEEDS_INPUTS.has(dependent.state)) {
        dependent.error = error;
        this.recommend(dependent, 'erred');
      }
    }
  }

  private erredToReleased(task: TaskState): void {
    task.error = undefined;
    task.state = 'released';
    this.afterRelease(task);
  }

  private releasedToForgotten(task: TaskState): void {
    if (task.isWanted || task.dependents.size > 0) return;
    task.state = 'forgotten';
    this.tasks.delete(task.key);
    for (const dependency of task.dependencies) {
      dependency.dependents.delete(task);
      if ((dependency.state === 'released' || dependency.state === 'erred') && !dependency.isWanted && dependency.dependents.size === 0) {
        this.recommend(dependency, 'forgotten');
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Bookkeeping shared by transitions
  // -------------------------------------------------------------------------------------------------------

  /** After reaching 'released': compute again if still needed, else forget when nothing refers to it. */
  private afterRelease(task: TaskState): void {
    if (task.isWanted) this.recommend(task, 'waiting');
    else if (task.dependents.size === 0) this.recommend(task, 'forgotten');
  }

  /** The task no longer needs its inputs: dependencies nobody else needs are released. */
  private dropClaimsOnDependencies(task: TaskState): void {
    for (const dependency of task.dependencies) {
      if (dependency.waiters.delete(task) && !dependency.isWanted && dependency.state !== 'released') {
        this.recommend(dependency, 'released');
      }
    }
  }

  private detachFromWorker(task: TaskState): void {
    const worker = task.processingOn;
    if (worker === undefined) return;
    worker.processing.delete(task);
    worker.occupancy = worker.processing.size === 0 ? 0 : worker.occupancy - task.expectedSeconds;
    if (task.resources !== undefined) worker.acquireResources(task.resources, -1);
    task.processingOn = undefined;
    if (this.workers.has(worker.id) && !worker.closing) this.maybeIdle.add(worker);
  }

  private reportMemory(task: TaskState, client: ClientState, result: FinishedTask | undefined): void {
    const holders: string[] = [];
    for (const worker of task.whoHas) holders.push(worker.address);
    this.emit({
      type: 'client-update',
      client,
      update: { state: 'memory', key: task.key, nbytes: task.nbytes, codec: result?.codec ?? 0, value: result?.value, holders },
    });
  }

  private readyState(task: TaskState): 'queued' | 'no-worker' {
    if (task.resources === undefined) return 'queued';
    for (const worker of this.workers.values()) if (!worker.closing && worker.canEverRun(task.resources)) return 'queued';
    return 'no-worker';
  }

  private rehomeQueue(worker: WorkerState): void {
    for (const task of worker.affinityQueue.drain()) this.rootQueue.push(task);
  }

  private recheckRestrictedTasks(): void {
    const stillRunnable: TaskState[] = [];
    for (const task of this.restrictedQueue.drain()) {
      if (this.readyState(task) === 'queued') stillRunnable.push(task);
      else this.waitingToNoWorker(task);
    }
    for (const task of stillRunnable) this.restrictedQueue.push(task);
  }

  private prefixFor(functionId: string): TaskPrefix {
    let prefix = this.prefixes.get(functionId);
    if (prefix === undefined) this.prefixes.set(functionId, (prefix = new TaskPrefix(functionId)));
    return prefix;
  }

  private emit(instruction: Instruction): void {
    this.instructions.push(instruction);
  }

  // -------------------------------------------------------------------------------------------------------
  // Handing out work (workers pull: a worker gets tasks only while it has free slots)
  // -------------------------------------------------------------------------------------------------------

  private assignWork(): void {
    for (const worker of this.maybeIdle) {
      while (this.hasCapacity(worker)) {
        const task = this.nextTaskFor(worker);
        if (task === undefined) break;
        this.startProcessing(task, worker);
      }
      if (!this.hasCapacity(worker)) this.maybeIdle.delete(worker);
    }
  }

  /**
   * A worker always gets one task per thread; beyond that it gets more only while the expected run time of what
   * it holds is under bufferSecondsPerThread per thread, so short tasks do not wait on round trips while long or
   * memory-hungry root tasks stay queued here (memory stays bounded for wide graphs).
   */
  private hasCapacity(worker: WorkerState): boolean {
    if (worker.closing || worker.metrics.paused) return false;
    const inFlight = worker.processing.size;
    if (inFlight < worker.nthreads) return true;
    if (inFlight >= worker.nthreads * this.config.maxTasksPerThread) return false;
    return worker.occupancy < worker.nthreads * this.config.bufferSecondsPerThread;
  }

  /** The highest-priority task this worker may run: its own queue, the shared queue, or stolen from a peer. */
  private nextTaskFor(worker: WorkerState): TaskState | undefined {
    if (this.restrictedQueue.size > 0 && Object.keys(worker.resources).length > 0) {
      const restricted = this.takeRestrictedFor(worker);
      if (restricted !== undefined) return restricted;
    }
    const own = worker.affinityQueue.peek();
    const shared = this.rootQueue.peek();
    if (own !== undefined && (shared === undefined || runsBefore(own, shared))) return worker.affinityQueue.pop();
    if (shared !== undefined) return this.rootQueue.pop();
    return this.stealFor(worker);
  }

  /** Takes the first restricted task (in priority order, looking a bounded way down) whose resources fit. */
  private takeRestrictedFor(worker: WorkerState): TaskState | undefined {
    const skipped: TaskState[] = [];
    let found: TaskState | undefined;
    while (skipped.length < 32) {
      const task = this.restrictedQueue.pop();
      if (task === undefined) break;
      if (worker.hasFreeResources(task.resources!)) {
        found = task;
        break;
      }
      skipped.push(task);
    }
    for (const task of skipped) this.restrictedQueue.push(task);
    return found;
  }

  /** An idle worker takes work queued for the busiest other worker rather than sit idle. */
  private stealFor(thief: WorkerState): TaskState | undefined {
    let victim: WorkerState | undefined;
    for (const worker of this.workers.values()) {
      if (worker !== thief && worker.affinityQueue.size > (victim?.affinityQueue.size ?? 0)) victim = worker;
    }
    return victim?.affinityQueue.pop();
  }

  private startProcessing(task: TaskState, worker: WorkerState): void {
    task.state = 'processing';
    task.processingOn = worker;
    task.expectedSeconds = task.prefix.durationAverage ?? this.config.unknownTaskSeconds;
    worker.processing.add(task);
    worker.occupancy += task.expectedSeconds;
    if (task.resources !== undefined) worker.acquireResources(task.resources, 1);
    this.config.onTransition?.(task.key, 'queued', 'processing', this.stimulusId);
    this.emit({ type: 'compute', worker, task, sendValue: task.whoWants.size > 0 });
  }

  /** The worker holding the most input bytes (ties: the least busy); undefined when inputs live nowhere usable. */
  private preferredWorker(task: TaskState): WorkerState | undefined {
    if (task.dependencies.length === 1) {
      for (const worker of task.dependencies[0]!.whoHas) if (!worker.closing) return worker;
      return undefined;
    }
    const bytes = new Map<WorkerState, number>();
    for (const dependency of task.dependencies) {
      for (const worker of dependency.whoHas) {
        if (!worker.closing) bytes.set(worker, (bytes.get(worker) ?? 0) + dependency.nbytes + 1);
      }
    }
    let best: WorkerState | undefined;
    let bestBytes = -1;
    for (const [worker, held] of bytes) {
      if (held > bestBytes || (held === bestBytes && best !== undefined && worker.processing.size < best.processing.size)) {
        best = worker;
        bestBytes = held;
      }
    }
    return best;
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

const TRANSITIONS: Record<TaskStateName, Partial<Record<TaskStateName, Handler>>> = {
  released: {
    waiting: SchedulerState.prototype['releasedToWaiting'],
    forgotten: SchedulerState.prototype['releasedToForgotten'],
    erred: SchedulerState.prototype['toErred'],
  },
  waiting: {
    queued: SchedulerState.prototype['toQueued'],
    'no-worker': SchedulerState.prototype['waitingToNoWorker'],
    released: SchedulerState.prototype['waitingToReleased'],
    erred: SchedulerState.prototype['toErred'],
  },
  queued: {
    waiting: SchedulerState.prototype['readyToWaiting'],
    released: SchedulerState.prototype['readyToReleased'],
    erred: SchedulerState.prototype['toErred'],
  },
  'no-worker': {
    queued: SchedulerState.prototype['toQueued'],
    waiting: SchedulerState.prototype['readyToWaiting'],
    released: SchedulerState.prototype['readyToReleased'],
    erred: SchedulerState.prototype['toErred'],
  },
  processing: {
    released: SchedulerState.prototype['processingToReleased'],
    erred: SchedulerState.prototype['toErred'],
  },
  memory: {
    released: SchedulerState.prototype['memoryToReleased'],
  },
  erred: {
    released: SchedulerState.prototype['erredToReleased'],
  },
  forgotten: {},
};
