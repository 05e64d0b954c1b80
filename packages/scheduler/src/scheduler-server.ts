// The scheduler's I/O shell: a gRPC server that turns client and worker messages into stimuli for the state
// machine, and carries out the instructions it returns. Outgoing entries are batched per destination and
// flushed once per event-loop turn, so a burst of task results becomes one message per worker and client, or a
// few when one would exceed the message limit.
import { randomUUID } from 'node:crypto';
import {
  Server,
  status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import {
  assertSafeBind,
  checkToken,
  createLogger,
  errorCodeToWire,
  DEFAULT_MAX_MESSAGE_BYTES,
  encodedSizeBound,
  grpcServerOptions,
  isLoomError,
  LoomError,
  Outbox,
  resolveToken,
  schedulerService,
  serverCredentials,
  toServiceError,
  type loom,
  type Logger,
  type TlsFiles,
} from '@loom/protocol';
import { SchedulerState } from './scheduler-state.js';
import type { FunctionDefinition } from './task-state.js';
import { stimuliFromWorkerReport, type Instruction, type NewTask, type StimulusEvent } from './stimuli.js';
import {
  ioFromWire, NO_IO, recordWorkerActivity, thresholdsFromWire, WorkerLogs, type WorkerIo, type WorkerTelemetry, type WorkerThresholds,
} from './worker-telemetry.js';
import {
  computeTaskToWire,
  functionFromWire,
  functionToWire,
  keyUpdateToWire,
  newTaskFromWire,
  workerFromHello,
  workerReportFromWire,
} from './wire-convert.js';

export const SCHEDULER_VERSION = '0.1.0';

export interface SchedulerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Cluster token; defaults to LOOM_TOKEN. Required to bind beyond loopback. */
  token?: string;
  tls?: TlsFiles;
  maxMessageBytes?: number;
  /** How often workers report; a worker silent for `heartbeatTimeoutMs` is removed. */
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** Results up to this size travel to waiting clients inside the completion message. */
  inlineValueBytes?: number;
  /** Check state-machine invariants after every event (slow; for tests). */
  validate?: boolean;
  /** Where the scheduler logs. Default: its own logger on stderr at LOOM_LOG_LEVEL. */
  logger?: Logger;
}

export interface SchedulerHandle {
  readonly address: string;
  readonly state: SchedulerState;
  close(): Promise<void>;
}

type WorkerCall = ServerDuplexStream<loom.v1.WorkerToScheduler, loom.v1.ISchedulerToWorker>;
type ClientCall = ServerDuplexStream<loom.v1.ClientToScheduler, loom.v1.ISchedulerToClient>;

class WorkerLink implements WorkerTelemetry {
  readonly knownFunctions = new Set<string>();
  readonly outbox = new Outbox<loom.v1.ISchedulerToWorker>();
  lastSeen = Date.now();
  io: WorkerIo = NO_IO;
  readonly logs = new WorkerLogs();
  constructor(
    readonly id: string,
    readonly call: WorkerCall,
    readonly thresholds: WorkerThresholds | undefined,
  ) {}
}

class ClientLink {
  readonly outbox = new Outbox<loom.v1.ISchedulerToClient>();
  constructor(
    readonly id: string,
    readonly call: ClientCall,
  ) {}
}

/** The two stream handlers of the Scheduler service, which the warm-up (warm-up.ts) also calls in-process. */
export interface SessionHandlers {
  clientSession(call: ClientCall): void;
  workerSession(call: WorkerCall): void;
}

interface PendingGraph {
  clientId: string;
  tasks: NewTask[];
  functions: FunctionDefinition[];
  wanted: string[];
}

export class SchedulerServer implements SchedulerHandle {
  readonly state: SchedulerState;
  readonly sessions: SessionHandlers = {
    clientSession: (call) => this.onClientSession(call),
    workerSession: (call) => this.onWorkerSession(call),
  };
  private readonly server: Server;
  private readonly log: Logger;
  private readonly token: string | undefined;
  private readonly workerLinks = new Map<string, WorkerLink>();
  private readonly clientLinks = new Map<string, ClientLink>();
  private readonly pendingGraphs = new Map<string, PendingGraph>();
  private readonly dirtyWorkers = new Set<WorkerLink>();
  private readonly dirtyClients = new Set<ClientLink>();
  private flushScheduled = false;
  private stimulusCounter = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private boundAddress = '';
  private readonly options: Required<Omit<SchedulerOptions, 'token' | 'tls' | 'logger'>>;

  constructor(private readonly userOptions: SchedulerOptions = {}) {
    this.options = {
      host: userOptions.host ?? '127.0.0.1',
      port: userOptions.port ?? 8786,
      maxMessageBytes: userOptions.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      heartbeatIntervalMs: userOptions.heartbeatIntervalMs ?? 1000,
      heartbeatTimeoutMs: userOptions.heartbeatTimeoutMs ?? 5000,
      inlineValueBytes: userOptions.inlineValueBytes ?? 64 * 1024,
      validate: userOptions.validate ?? false,
    };
    this.token = resolveToken(userOptions.token);
    this.log = userOptions.logger ?? createLogger('scheduler');
    const traceTransitions = this.log.isLevelEnabled('debug');
    this.state = new SchedulerState({
      validate: this.options.validate,
      logger: this.log,
      ...(traceTransitions && {
        onTransition: (key, from, to, stimulusId) => this.log.debug({ key, stimulusId }, `${from} -> ${to}`),
      }),
    });
    this.server = new Server(grpcServerOptions(this.options.maxMessageBytes));
    this.server.addService(schedulerService, {
      ...this.sessions,
      submitGraph: (call: ServerUnaryCall<loom.v1.SubmitGraphRequest, loom.v1.ISubmitGraphReply>, done: sendUnaryData<loom.v1.ISubmitGraphReply>) =>
        this.onSubmitGraph(call, done),
      info: (call: ServerUnaryCall<loom.v1.InfoRequest, loom.v1.IClusterInfo>, done: sendUnaryData<loom.v1.IClusterInfo>) => this.onInfo(call, done),
    });
  }

  get address(): string {
    return this.boundAddress;
  }

  get logger(): Logger {
    return this.log;
  }

  /** The worker's last message time, thresholds, I/O totals and recent logs (the dashboard's), if it is connected. */
  workerTelemetry(workerId: string): WorkerTelemetry | undefined {
    return this.workerLinks.get(workerId);
  }

  async start(): Promise<this> {
    assertSafeBind(this.options.host, this.token);
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${this.options.port}`, serverCredentials(this.userOptions.tls), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
    this.boundAddress = `${this.options.host}:${port}`;
    this.heartbeatTimer = setInterval(() => this.checkHeartbeats(), Math.min(1000, this.options.heartbeatTimeoutMs / 2));
    this.heartbeatTimer.unref();
    this.log.info({ address: this.boundAddress, tls: Boolean(this.userOptions.tls?.certFile), auth: this.token !== undefined }, 'scheduler listening');
    return this;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    for (const link of this.workerLinks.values()) {
      link.call.write({ shutdown: true });
      link.call.end();
    }
    for (const link of this.clientLinks.values()) link.call.end();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    this.log.info('scheduler closed');
  }

  // -------------------------------------------------------------------------------------------------------
  // Driving the state machine
  // -------------------------------------------------------------------------------------------------------

  /** Runs one stimulus and queues its instructions. Throws (changing nothing) only for invalid graphs. */
  private handle(stimulus: StimulusEvent): void {
    const instructions = this.state.handleStimulus({ ...stimulus, stimulusId: `${stimulus.type}-${++this.stimulusCounter}` });
    for (const instruction of instructions) this.execute(instruction);
    if (instructions.length > 0) this.scheduleFlush();
  }

  private sendFunction(link: WorkerLink, id: string): void {
    if (link.knownFunctions.has(id)) return;
    link.knownFunctions.add(id);
    link.outbox.push('functions', functionToWire(this.state.functions.get(id)!));
  }

  private execute(instruction: Instruction): void {
    if (instruction.type === 'client-update') {
      const link = this.clientLinks.get(instruction.clientId);
      if (link === undefined) return;
      link.outbox.push('updates', this.withinMessageLimit(keyUpdateToWire(instruction.update)));
      this.dirtyClients.add(link);
      return;
    }
    const link = this.workerLinks.get(instruction.workerId);
    if (link === undefined) return;
    switch (instruction.type) {
      case 'compute': {
        // Instructions are carried out as soon as handleStimulus returns, so the task is there, in this run.
        const task = this.state.tasks.get(instruction.key);
        if (task?.runId !== instruction.runId) {
          this.log.error({ key: instruction.key, runId: instruction.runId, stimulusId: instruction.stimulusId }, 'compute of a task no longer in that run');
          return;
        }
        const fn = this.state.functions.get(task.functionId)!;
        // A fused chain's functions go first: the worker defines them before the chain that names them.
        for (const partId of fn.chain ?? []) this.sendFunction(link, partId);
        this.sendFunction(link, fn.id);
        link.outbox.push('compute', computeTaskToWire(task, instruction.runId, instruction.sendValue));
        break;
      }
      case 'free-keys':
        for (const key of instruction.keys) link.outbox.push('freeKeys', key);
        break;
      case 'cancel-compute':
        link.outbox.push('cancel', { key: instruction.key, runId: instruction.runId });
        break;
    }
    this.dirtyWorkers.add(link);
  }

  /**
   * An update whose inline value would not fit one message even alone (its holders travel beside the value the
   * worker sent) goes without the value: the client fetches it from the holders, as any large value.
   */
  private withinMessageLimit(update: loom.v1.IKeyUpdate): loom.v1.IKeyUpdate {
    if (!update.hasValue || encodedSizeBound(update) <= this.options.maxMessageBytes) return update;
    return { ...update, value: new Uint8Array(), hasValue: false };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const budget = this.options.maxMessageBytes;
    for (const link of this.dirtyWorkers) for (const message of link.outbox.takeMessages(budget)) link.call.write(message);
    this.dirtyWorkers.clear();
    for (const link of this.dirtyClients) for (const message of link.outbox.takeMessages(budget)) link.call.write(message);
    this.dirtyClients.clear();
  }

  // -------------------------------------------------------------------------------------------------------
  // Workers
  // -------------------------------------------------------------------------------------------------------

  private onWorkerSession(call: WorkerCall): void {
    const denied = checkToken(call, this.token);
    if (denied) {
      call.emit('error', denied);
      return;
    }
    let link: WorkerLink | undefined;
    call.on('data', (message: loom.v1.WorkerToScheduler) => {
      try {
        if (link === undefined) link = this.registerWorker(call, message);
        else this.onWorkerMessage(link, message);
        if (link === undefined) call.end();
      } catch (error) {
        this.log.error({ err: error, worker: link?.id }, 'worker message failed');
        call.emit('error', isLoomError(error) ? toServiceError(error) : { code: status.INTERNAL, details: String(error) });
      }
    });
    const gone = (reason: string) => {
      if (link === undefined || !this.workerLinks.has(link.id)) return;
      this.removeWorker(link, reason);
    };
    call.on('end', () => {
      gone('stream ended');
      call.end();
    });
    call.on('error', (error: Error) => gone(`stream error: ${error.message}`));
    call.on('cancelled', () => gone('connection lost'));
  }

  private registerWorker(call: WorkerCall, message: loom.v1.WorkerToScheduler): WorkerLink | undefined {
    if (!message.hello) {
      call.emit('error', { code: status.INVALID_ARGUMENT, details: 'the first message of a worker session must be hello' });
      return undefined;
    }
    const hello = message.hello;
    const id = hello.name || `worker-${randomUUID().slice(0, 8)}`;
    if (this.workerLinks.has(id)) {
      call.emit('error', { code: status.ALREADY_EXISTS, details: `a worker named '${id}' is already connected` });
      return undefined;
    }
    const link = new WorkerLink(id, call, thresholdsFromWire(hello.thresholds));
    this.workerLinks.set(id, link);
    call.write({
      welcome: {
        workerId: id,
        heartbeatIntervalMs: this.options.heartbeatIntervalMs,
        inlineValueBytes: this.options.inlineValueBytes,
        maxMessageBytes: this.options.maxMessageBytes,
      },
    });
    const worker = workerFromHello(id, hello);
    this.log.info({ worker: id, address: worker.address, nthreads: worker.nthreads, resources: worker.resources }, 'worker joined');
    this.handle({ type: 'worker-connected', worker });
    return link;
  }

  private onWorkerMessage(link: WorkerLink, message: loom.v1.WorkerToScheduler): void {
    link.lastSeen = Date.now();
    if (message.metrics) {
      link.io = ioFromWire(message.metrics);
      recordWorkerActivity(this.state.activity, link.id, message.metrics, link.lastSeen);
      link.logs.record(message.metrics, link.lastSeen);
    }
    for (const stimulus of stimuliFromWorkerReport(link.id, workerReportFromWire(message))) {
      if (stimulus.type === 'worker-closing') this.log.info({ worker: link.id, handedBack: stimulus.handedBack.length }, 'worker closing');
      this.handle(stimulus);
    }
  }

  private removeWorker(link: WorkerLink, reason: string): void {
    this.workerLinks.delete(link.id);
    this.dirtyWorkers.delete(link);
    // A worker that announced its shutdown ending its stream is the expected goodbye, not a loss.
    const announced = this.state.workers.get(link.id)?.closing === true && reason === 'stream ended';
    const level = announced ? 'info' : 'warn';
    this.log[level]({ worker: link.id, reason }, 'worker removed');
    this.handle({ type: 'worker-removed', workerId: link.id, reason });
  }

  private checkHeartbeats(): void {
    const deadline = Date.now() - this.options.heartbeatTimeoutMs;
    for (const link of [...this.workerLinks.values()]) {
      if (link.lastSeen >= deadline) continue;
      this.removeWorker(link, `no heartbeat for ${this.options.heartbeatTimeoutMs} ms`);
      link.call.emit('error', { code: status.DEADLINE_EXCEEDED, details: 'heartbeat timeout' });
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Clients
  // -------------------------------------------------------------------------------------------------------

  private onClientSession(call: ClientCall): void {
    const denied = checkToken(call, this.token);
    if (denied) {
      call.emit('error', denied);
      return;
    }
    let link: ClientLink | undefined;
    call.on('data', (message: loom.v1.ClientToScheduler) => {
      if (link === undefined) {
        if (!message.hello) {
          call.emit('error', { code: status.INVALID_ARGUMENT, details: 'the first message of a client session must be hello' });
          return;
        }
        link = new ClientLink(randomUUID(), call);
        this.clientLinks.set(link.id, link);
        call.write({ welcome: { clientId: link.id, schedulerVersion: SCHEDULER_VERSION, maxMessageBytes: this.options.maxMessageBytes } });
        this.log.info({ client: link.id, name: message.hello.name }, 'client connected');
        this.handle({ type: 'client-connected', clientId: link.id, name: message.hello.name ?? '' });
        return;
      }
      if (message.submit) this.onStreamedGraph(link, message.submit);
      if (message.releaseKeys.length > 0) this.handle({ type: 'release-keys', clientId: link.id, keys: message.releaseKeys });
    });
    const gone = () => {
      if (link === undefined || !this.clientLinks.has(link.id)) return;
      this.clientLinks.delete(link.id);
      this.dirtyClients.delete(link);
      for (const [graphId, graph] of this.pendingGraphs) if (graph.clientId === link.id) this.pendingGraphs.delete(graphId);
      this.log.info({ client: link.id }, 'client disconnected');
      this.handle({ type: 'client-disconnected', clientId: link.id });
    };
    call.on('end', () => {
      gone();
      call.end();
    });
    call.on('error', gone);
    call.on('cancelled', gone);
  }

  private onSubmitGraph(
    call: ServerUnaryCall<loom.v1.SubmitGraphRequest, loom.v1.ISubmitGraphReply>,
    done: sendUnaryData<loom.v1.ISubmitGraphReply>,
  ): void {
    const denied = checkToken(call, this.token);
    if (denied) {
      done(denied);
      return;
    }
    const outcome = this.acceptGraphChunk(call.request.clientId, call.request);
    if (outcome instanceof LoomError) done(toServiceError(outcome));
    else done(null, { tasksAdded: outcome });
  }

  private onStreamedGraph(link: ClientLink, request: loom.v1.ISubmitGraphRequest): void {
    const outcome = this.acceptGraphChunk(link.id, request);
    if (!request.final && !(outcome instanceof LoomError)) return;
    link.outbox.push(
      'graphAcks',
      outcome instanceof LoomError
        ? { graphId: request.graphId ?? '', refused: true, error: { code: errorCodeToWire(outcome.code), message: outcome.message } }
        : { graphId: request.graphId ?? '', tasksAdded: outcome },
    );
    this.dirtyClients.add(link);
    this.scheduleFlush();
  }

  /**
   * Buffers one chunk of a graph; on the final chunk validates and applies the whole graph. Returns the number of
   * tasks new to the scheduler, or the LoomError that refused the graph (nothing of it applied).
   */
  private acceptGraphChunk(clientId: string, request: loom.v1.ISubmitGraphRequest): number | LoomError {
    if (!this.clientLinks.has(clientId)) return new LoomError('UNKNOWN_CLIENT', `client '${clientId}' has no open session`);
    const graphKey = `${clientId}/${request.graphId ?? ''}`;
    let graph = this.pendingGraphs.get(graphKey);
    if (graph === undefined) {
      graph = { clientId, tasks: [], functions: [], wanted: [] };
      if (!request.final) this.pendingGraphs.set(graphKey, graph);
    }
    for (const spec of request.tasks ?? []) graph.tasks.push(newTaskFromWire(spec));
    for (const fn of request.functions ?? []) graph.functions.push(functionFromWire(fn));
    for (const key of request.wantedKeys ?? []) graph.wanted.push(key);
    if (!request.final) return 0;
    this.pendingGraphs.delete(graphKey);
    const before = this.state.tasks.size;
    try {
      this.handle({ type: 'update-graph', clientId, tasks: graph.tasks, functions: graph.functions, wanted: graph.wanted });
    } catch (error) {
      if (isLoomError(error)) {
        this.log.warn({ client: clientId, code: error.code, err: error.message }, 'graph refused');
        return error;
      }
      this.log.error({ err: error, client: clientId }, 'graph update failed');
      return new LoomError('INTERNAL', `scheduler error: ${(error as Error).message}`);
    }
    return Math.max(0, this.state.tasks.size - before);
  }

  private onInfo(call: ServerUnaryCall<loom.v1.InfoRequest, loom.v1.IClusterInfo>, done: sendUnaryData<loom.v1.IClusterInfo>): void {
    const denied = checkToken(call, this.token);
    if (denied) {
      done(denied);
      return;
    }
    const workers: loom.v1.IWorkerInfo[] = [...this.state.workers.values()].map((worker) => ({
      id: worker.id,
      name: worker.name,
      address: worker.address,
      nthreads: worker.nthreads,
      memoryLimit: worker.memoryLimit,
      managedBytes: worker.metrics.managedBytes,
      spilledBytes: worker.metrics.spilledBytes,
      rssBytes: worker.metrics.rssBytes,
      resources: { ...worker.resources },
      processing: worker.processing.size,
      inMemory: worker.hasWhat.size,
      paused: worker.metrics.paused,
    }));
    done(null, { workers, taskCounts: this.state.taskCounts(), clients: this.state.clients.size });
  }
}

export async function startScheduler(options: SchedulerOptions = {}): Promise<SchedulerHandle> {
  return new SchedulerServer(options).start();
}
