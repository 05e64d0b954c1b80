// The scheduler's start-up warm-up. V8 runs new code interpreted until it is hot, so the first graph a fresh
// scheduler sees costs several times the CPU of the same graph later. Here a private SchedulerServer, never
// bound to a port, serves a synthetic client and two synthetic workers over in-process streams for a few
// thousand tasks: the stream handlers, the state machine, the outboxes and the generated protobuf codecs all run
// on the real code, so they are compiled when the first real graph arrives. Nothing reaches the real scheduler:
// the private server has its own state, logs nowhere, and is dropped when the warm-up ends.
import { LoopbackStream, nextTurn, pb, schedulerService, silentLogger, type loom } from '@loom/protocol';
import { SchedulerServer, type SessionHandlers } from './scheduler-server.js';

export interface SchedulerWarmUpOptions {
  /** Tasks in each synthetic graph. Default 2,000. */
  tasks?: number;
  /** Synthetic graphs, one after the other. Default 2. */
  graphs?: number;
  /** Checked between event-loop turns: once it returns true the warm-up stops (real work wants the CPU). */
  shouldStop?: () => boolean;
}

export interface SchedulerWarmUpResult {
  /** Tasks whose results reached the synthetic client. */
  tasks: number;
  stopped: boolean;
}

const FUNCTION_ID = 'loom-warm-up/inc';
const INC: loom.v1.IFunctionDef = { id: FUNCTION_ID, name: 'inc', source: '(x) => x + 1' };
/** A JSON-encoded number, as a small task result travels. */
const VALUE = Buffer.from('12345');
/** Turns a graph may take before the warm-up gives up on it (it finishes in well under a hundred). */
const TURN_LIMIT = 10_000;

/** Runs the warm-up; resolves when it is done or stopped. It never throws for a stop, only for a bug. */
export async function warmUpScheduler(options: SchedulerWarmUpOptions = {}): Promise<SchedulerWarmUpResult> {
  const taskCount = options.tasks ?? 2_000;
  const graphs = options.graphs ?? 2;
  const shouldStop = options.shouldStop ?? (() => false);
  const server = new SchedulerServer({ logger: silentLogger() });
  const workers = [new SyntheticWorker('warm-up-0', server.sessions), new SyntheticWorker('warm-up-1', server.sessions)];
  const client = new SyntheticClient(server.sessions);
  let done = 0;
  try {
    for (let graph = 0; graph < graphs; graph++) {
      const keys = client.submit(`warm-up-${graph}`, taskCount);
      for (let turn = 0; client.pending > 0; turn++) {
        if (shouldStop()) return { tasks: done, stopped: true };
        if (turn === TURN_LIMIT) throw new Error(`the scheduler warm-up made no progress (${client.pending} results missing)`);
        await nextTurn();
      }
      done += keys.length;
      client.release(keys);
      await nextTurn();
    }
    return { tasks: done, stopped: false };
  } finally {
    client.close();
    for (const worker of workers) worker.close();
    // Never bound, so this only unregisters it from grpc-js's registry (which would keep it alive otherwise).
    await server.close();
  }
}

type WorkerEnd = LoopbackStream<loom.v1.ISchedulerToWorker, loom.v1.WorkerToScheduler>;
type ClientEnd = LoopbackStream<loom.v1.ISchedulerToClient, loom.v1.ClientToScheduler>;

/** A worker that finishes every task it is given on the next turn, with the value inline when asked. */
class SyntheticWorker {
  private readonly stream: WorkerEnd;
  private readonly method = schedulerService.workerSession;

  constructor(name: string, sessions: SessionHandlers) {
    this.stream = new LoopbackStream(this.method.responseSerialize, this.method.requestDeserialize, (_bytes, message) => this.fromScheduler(message));
    sessions.workerSession(this.stream as unknown as Parameters<SessionHandlers['workerSession']>[0]);
    this.send({ hello: { name, address: `${name}:0`, nthreads: 1, memoryLimit: 2 ** 31, resources: {}, pid: process.pid } });
  }

  close(): void {
    this.stream.emit('end');
  }

  private send(message: loom.v1.IWorkerToScheduler): void {
    this.stream.receive(this.method.requestSerialize(message));
  }

  private fromScheduler(message: loom.v1.ISchedulerToWorker): void {
    if (!message.compute?.length) return;
    const finished: loom.v1.ITaskFinished[] = message.compute.map((task) => ({
      key: task.key,
      runId: task.runId,
      nbytes: VALUE.byteLength,
      codec: pb.Codec.CODEC_JSON,
      durationMs: 0.01,
      ...(task.sendValue ? { value: VALUE, hasValue: true } : {}),
    }));
    this.send({ finished, metrics: { managedBytes: 0, spilledBytes: 0, rssBytes: 1e8, executing: 0, ready: 0, paused: false } });
  }
}

/**
 * A client that submits a graph as the real one does (one chunk: a wide map whose first tasks feed a small
 * binary reduction, every key wanted) and counts the results that come back.
 */
class SyntheticClient {
  private readonly stream: ClientEnd;
  private readonly method = schedulerService.clientSession;
  private readonly waiting = new Set<string>();
  private keys = 0;

  constructor(sessions: SessionHandlers) {
    this.stream = new LoopbackStream(this.method.responseSerialize, this.method.requestDeserialize, (_bytes, message) => this.fromScheduler(message));
    sessions.clientSession(this.stream as unknown as Parameters<SessionHandlers['clientSession']>[0]);
    this.send({ hello: { name: 'warm-up' } });
  }

  get pending(): number {
    return this.waiting.size;
  }

  /** Submits one graph of `count` tasks (at least 2); returns its keys. */
  submit(graphId: string, count: number): string[] {
    // As the client's graph encoder writes them (graph-wire.ts): keys named like its random ones, fields at
    // their default value left out, so the decoded messages have the shapes real ones have.
    const tasks: loom.v1.ITaskSpec[] = [];
    const spec = (name: string, args: number, dependencies: string[]): loom.v1.ITaskSpec => {
      const order = tasks.length;
      return {
        key: `${name}-${(this.keys++).toString(16).padStart(32, '0')}`,
        functionId: FUNCTION_ID,
        args: Buffer.from(`{"template":[${args}],"holes":[]}`),
        ...(dependencies.length > 0 ? { dependencies } : {}),
        ...(order > 0 ? { order } : {}),
      };
    };
    // A power of two, so the reduction pairs every leaf: `count` tasks in all.
    const leaves = 2 ** Math.floor(Math.log2(Math.max(2, count / 10)));
    for (let i = 0; i < count - leaves + 1; i++) tasks.push(spec('inc', i, []));
    let level = tasks.slice(0, leaves).map((task) => task.key as string);
    while (level.length > 1) {
      const next: string[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) {
        const task = spec('add', 0, [level[i] as string, level[i + 1] as string]);
        tasks.push(task);
        next.push(task.key as string);
      }
      level = next;
    }
    const keys = tasks.map((task) => task.key as string);
    for (const key of keys) this.waiting.add(key);
    this.send({ submit: { graphId, tasks, functions: [INC], wantedKeys: keys, final: true } });
    return keys;
  }

  release(keys: string[]): void {
    this.send({ releaseKeys: keys });
  }

  close(): void {
    this.stream.emit('end');
  }

  private send(message: loom.v1.IClientToScheduler): void {
    this.stream.receive(this.method.requestSerialize(message));
  }

  private fromScheduler(message: loom.v1.ISchedulerToClient): void {
    for (const update of message.updates ?? []) this.waiting.delete(update.key ?? '');
  }
}
