// The Client: a connection to a Loom scheduler through which graphs are submitted (submit, map, compute, persist,
// get) and results come back (futures, gather, asCompleted). It owns the session stream, the key store that
// reference-counts held keys, and the data fetcher that reads large results from workers.
import { Client as GrpcClient, type MethodDefinition } from '@grpc/grpc-js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  LoomError,
  callMetadata,
  channelCredentials,
  createLogger,
  fromServiceError,
  grpcOptions,
  resolveToken,
  schedulerService,
  silentLogger,
  warmUpEnabled,
  type Logger,
  type SecurityOptions,
} from '@loom/protocol';
import { schedulerInfoFromWire, type SchedulerInfo } from './cluster-info.js';
import { forgetClient, setCurrentClient, type DelayedRunner } from './current-client.js';
import { DataFetcher } from './data-fetch.js';
import { Delayed, delayedNode, type DelayedValues, type LiftedArgs, type Lift } from './delayed.js';
import { functionEntry, type AnyFunction, type ModuleFunction } from './function-source.js';
import { Future, futureState, type FutureOwner } from './future.js';
import { asCompleted, gather, type GatherOwner, type Gathered } from './gather.js';
import { fuseLinearChains } from './graph-fuse.js';
import { orderGraph } from './graph-order.js';
import { graphRequests, planGraph, type GraphPlan } from './graph-submit.js';
import { KeyStore, type KeyState } from './key-store.js';
import { LOOPBACK_RESULT, loopbackScheduler } from './loopback-scheduler.js';
import { ProgressHub } from './progress/progress-hub.js';
import { ProgressTracker, type ProgressListener } from './progress/progress-tracker.js';
import { rawGraphNodes, type RawGraph } from './raw-graph.js';
import { SchedulerSession } from './session.js';
import { buildTask, resolveOptions } from './task-builder.js';
import type { GraphNode, TaskNode, TaskOptions } from './task-node.js';

export interface ConnectOptions extends SecurityOptions {
  /** Shown in the scheduler's logs. */
  name?: string;
  /** How long to wait for the scheduler to answer (default 10 s). */
  timeoutMs?: number;
  /** The largest message this client sends or accepts (default 64 MiB); graphs are split below half of it. */
  maxMessageBytes?: number;
  /**
   * Runs each linear chain of tasks as one task (graph-fuse.ts; default true). false sends every task as it was
   * built, so each intermediate is computed, stored and reported on its own.
   */
  fuseChains?: boolean;
}

/** Options for client.map: everything but a fixed key, since each item gets its own. */
export type MapOptions = Omit<TaskOptions, 'key'>;

type Owner = FutureOwner & GatherOwner;

/** The warm-up's graphs: enough calls for V8 to compile the per-task code. */
const WARM_UP_ROUNDS = 2;
const WARM_UP_TASKS = 1_000;
/** The process's one warm-up (Client.warmUp), once started. */
let warmingUp: Promise<number> | undefined;

export class Client implements DelayedRunner {
  readonly address: string;
  readonly #grpc: GrpcClient;
  readonly #token: string | undefined;
  readonly #store: KeyStore;
  readonly #fetcher: DataFetcher;
  readonly #owner: Owner;
  readonly #log: Logger;
  readonly #maxMessageBytes: number;
  readonly #fuseChains: boolean;
  readonly #progress = new ProgressHub();
  #session: SchedulerSession | undefined;
  /** Why the client can no longer submit: closed, or the session was lost. */
  #unusable: LoomError | undefined;
  #closed = false;

  private constructor(address: string, grpc: GrpcClient, token: string | undefined, options: ConnectOptions, log: Logger) {
    this.address = address;
    this.#grpc = grpc;
    this.#token = token;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#fuseChains = options.fuseChains ?? true;
    this.#log = log;
    this.#store = new KeyStore((keys) => this.#session?.sendReleases(keys));
    this.#fetcher = new DataFetcher(channelCredentials(options.tls), () => callMetadata(token), this.#maxMessageBytes, this.#log);
    const store = this.#store;
    this.#owner = {
      finalizer: new FinalizationRegistry<KeyState>((state) => store.drop(state)),
      dropReference: (state) => store.drop(state),
      fetchValue: async (state) => {
        await this.#fetcher.fillValues([state]);
        return state.value;
      },
      fetchValues: (states) => this.#fetcher.fillValues(states),
    };
  }

  /**
   * Connects to the scheduler at `address` ('host:port'). Rejects with UNAUTHENTICATED for a wrong or missing
   * token, INTERNAL when the scheduler cannot be reached within `timeoutMs`. The new client becomes current.
   */
  static async connect(address: string, options: ConnectOptions = {}): Promise<Client> {
    const token = resolveToken(options.token);
    const timeoutMs = options.timeoutMs ?? 10_000;
    const grpc = new GrpcClient(address, channelCredentials(options.tls), grpcOptions(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES));
    // Started first: the warm-up is work for this thread, the handshake mostly waiting for the network.
    const warmedUp = Client.warmUp();
    const log = createLogger('client', { scheduler: address });
    const client = await Client.#open(address, grpc, token, options, log, () => waitForReady(grpc, address, timeoutMs));
    await warmedUp;
    client.#log.debug({ clientId: client.id }, 'connected');
    setCurrentClient(client);
    return client;
  }

  /**
   * Runs this process's client code (building, ordering and encoding graphs, futures, the key store, decoding
   * results) on a few thousand synthetic tasks answered by a stand-in for the scheduler inside this process, so
   * that the first real graph runs compiled code instead of interpreted (V8 compiles code once it is hot).
   * Client.connect and LocalCluster.start call it; it runs once per process and never rejects. Resolves with how
   * many synthetic results came back right (0 unless LOOM_WARMUP=1 turns it on, or should it fail).
   */
  static warmUp(): Promise<number> {
    if (!warmUpEnabled()) return Promise.resolve(0);
    warmingUp ??= Client.#warmUp().catch((error: unknown) => {
      createLogger('client').warn({ err: error }, 'the client warm-up failed; the client works the same without it');
      return 0;
    });
    return warmingUp;
  }

  static async #warmUp(): Promise<number> {
    const client = await Client.#open('in-process', loopbackScheduler(), undefined, { name: 'warm-up' }, silentLogger(), () => Promise.resolve());
    let right = 0;
    try {
      const inc = (x: number) => x + 1;
      for (let round = 0; round < WARM_UP_ROUNDS; round++) {
        const futures = client.map(inc, Array.from({ length: WARM_UP_TASKS }, (_, i) => i), { pure: false });
        // The stand-in answers every task with 1.
        for (const value of await client.gather(futures)) if (value === LOOPBACK_RESULT) right++;
        for (const future of futures) future.release();
      }
    } finally {
      await client.close();
    }
    return right;
  }

  /** A client whose session is open on `grpc` once `ready` resolves; it is not made current. */
  static async #open(
    address: string,
    grpc: GrpcClient,
    token: string | undefined,
    options: ConnectOptions,
    log: Logger,
    ready: () => Promise<void>,
  ): Promise<Client> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const client = new Client(address, grpc, token, options, log);
    try {
      await ready();
      client.#session = await SchedulerSession.open(grpc, callMetadata(token), options.name ?? `client-${process.pid}`, timeoutMs, {
        onUpdates: (updates) => client.#store.applyUpdates(updates),
        onLost: (error) => client.#lost(error),
      });
    } catch (error) {
      client.#fetcher.close();
      grpc.close();
      throw error;
    }
    return client;
  }

  /** Why this client can no longer submit (closed, or its session with the scheduler was lost); undefined while usable. */
  get unusable(): LoomError | undefined {
    return this.#unusable;
  }

  /** The id the scheduler gave this client. */
  get id(): string {
    return this.#session?.clientId ?? '';
  }

  /** Runs `fn(...args)` on the cluster; arguments may hold futures and delayed values. */
  submit<F extends AnyFunction>(fn: F, ...args: LiftedArgs<Parameters<F>>): Future<Awaited<ReturnType<F>>>;
  submit<T = unknown>(fn: ModuleFunction, ...args: unknown[]): Future<T>;
  submit(fn: AnyFunction | ModuleFunction, ...args: unknown[]): Future<unknown> {
    return this.#submitTask(undefined, fn, args);
  }

  /** submit() with per-task options: retries, priority, resources, key, name, pure. */
  submitWith<F extends AnyFunction>(options: TaskOptions, fn: F, ...args: LiftedArgs<Parameters<F>>): Future<Awaited<ReturnType<F>>>;
  submitWith<T = unknown>(options: TaskOptions, fn: ModuleFunction, ...args: unknown[]): Future<T>;
  submitWith(options: TaskOptions, fn: AnyFunction | ModuleFunction, ...args: unknown[]): Future<unknown> {
    return this.#submitTask(options, fn, args);
  }

  /** One task per item, submitted as one graph; keys are derived per item, so repeated items share a task. */
  map<F extends (item: never) => unknown>(fn: F, items: Iterable<Lift<Parameters<F>[0]>>, options?: MapOptions): Future<Awaited<ReturnType<F>>>[];
  map<T = unknown>(fn: ModuleFunction, items: Iterable<unknown>, options?: MapOptions): Future<T>[];
  map(fn: AnyFunction | ModuleFunction, items: Iterable<unknown>, options?: MapOptions): Future<unknown>[] {
    this.#assertUsable();
    const entry = functionEntry(fn);
    const resolved = resolveOptions(options);
    const nodes: TaskNode[] = [];
    for (const item of items) nodes.push(buildTask(entry, [item], resolved));
    const { futures, accepted } = this.#submitNodes(nodes);
    accepted.catch(() => undefined);
    return futures;
  }

  /** Starts computing delayed values; returns their futures at once (one graph for all of them). */
  compute<T>(value: Delayed<T>): Future<T>;
  compute<const T extends readonly Delayed<unknown>[]>(values: T): { -readonly [K in keyof T]: Future<DelayedValues<T>[K]> };
  compute(values: Delayed<unknown> | readonly Delayed<unknown>[]): Future<unknown> | Future<unknown>[] {
    const list = Array.isArray(values) ? (values as readonly Delayed<unknown>[]) : [values as Delayed<unknown>];
    const { futures, accepted } = this.#submitNodes(list.map((value) => delayedNode(value)));
    accepted.catch(() => undefined);
    return Array.isArray(values) ? futures : (futures[0] as Future<unknown>);
  }

  /** Starts computing delayed values and resolves, once the graph is accepted, to values held on the workers. */
  async persist<const T extends readonly Delayed<unknown>[]>(...values: T): Promise<{ -readonly [K in keyof T]: T[K] }> {
    return (await this.persistDelayed(values)) as { -readonly [K in keyof T]: T[K] };
  }

  /** The values of futures nested anywhere in arrays and plain objects, in the same structure. */
  gather<T>(futures: T): Promise<Gathered<T>> {
    return gather(this.#owner, futures);
  }

  /** Yields the futures as they finish (or fail), in completion order. */
  asCompleted<T>(futures: Iterable<Future<T>>): AsyncGenerator<Future<T>, void, undefined> {
    return asCompleted(futures);
  }

  /**
   * Runs a raw graph, like Dask's client.get: `{ [key]: task(fn, ...args) }` with ref('key') for dependencies.
   * Resolves with the value of `keys` (one key) or of each key (an array). Only tasks the keys need are sent.
   */
  get(graph: RawGraph, keys: string): Promise<unknown>;
  get(graph: RawGraph, keys: readonly string[]): Promise<unknown[]>;
  async get(graph: RawGraph, keys: string | readonly string[]): Promise<unknown> {
    const nodes = rawGraphNodes(graph);
    const wanted = typeof keys === 'string' ? [keys] : keys;
    const outputs = wanted.map((key): GraphNode => nodes.get(key) ?? { kind: 'external', key, holder: undefined });
    const values = await this.#computeNodes(outputs);
    return typeof keys === 'string' ? values[0] : values;
  }

  /** A snapshot of the cluster: workers with memory figures, task counts per state, connected clients. */
  async schedulerInfo(): Promise<SchedulerInfo> {
    return schedulerInfoFromWire(await this.#unary(schedulerService.info, {}));
  }

  /**
   * Calls `listener` with per-prefix task counts (total, done, erred, cancelled, pending) of every graph this
   * client submits from now on, after each batch of changes; returns the function that stops it. For programs
   * that draw their own progress; progress() draws one. Costs nothing once no listener is left.
   */
  onProgress(listener: ProgressListener): () => void {
    const tracker = new ProgressTracker();
    const unsubscribe = tracker.subscribe(listener);
    const detach = this.#progress.attach(tracker);
    return () => {
      unsubscribe();
      detach();
    };
  }

  /** @internal Used by progress(): `tracker` counts every graph submitted until the returned function is called. */
  trackGraphs(tracker: ProgressTracker): () => void {
    return this.#progress.attach(tracker);
  }

  /** Releases everything this client holds and disconnects. Pending futures reject with CANCELLED. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new LoomError('CANCELLED', 'the client is closed');
    this.#unusable = closed;
    forgetClient(this);
    const held = this.#store.allKeys();
    this.#store.close(closed);
    await this.#session?.close(held);
    this.#fetcher.close();
    this.#grpc.close();
    this.#log.debug('closed');
  }

  /** @internal Used by Delayed#compute and the module-level compute(). */
  computeDelayed(values: readonly Delayed<unknown>[]): Promise<unknown[]> {
    return this.#computeNodes(values.map((value) => delayedNode(value)));
  }

  /** @internal Used by Delayed#persist and the module-level persist(). */
  async persistDelayed(values: readonly Delayed<unknown>[]): Promise<Delayed<unknown>[]> {
    const { futures, accepted } = this.#submitNodes(values.map((value) => delayedNode(value)));
    try {
      await accepted;
    } catch (error) {
      for (const future of futures) future.release();
      throw error;
    }
    return futures.map((future) => new Delayed({ kind: 'external', key: future.key, holder: future }));
  }

  #submitTask(options: TaskOptions | undefined, fn: AnyFunction | ModuleFunction, args: unknown[]): Future<unknown> {
    this.#assertUsable();
    const node = buildTask(functionEntry(fn), args, resolveOptions(options));
    const { futures, accepted } = this.#submitNodes([node]);
    accepted.catch(() => undefined);
    return futures[0] as Future<unknown>;
  }

  async #computeNodes(outputs: GraphNode[]): Promise<unknown[]> {
    const { futures, accepted } = this.#submitNodes(outputs);
    try {
      await accepted;
      return await gather(this.#owner, futures);
    } finally {
      for (const future of futures) future.release();
    }
  }

  /**
   * Sends the graph needed for `outputs` and returns a Future per output at once. The graph is ordered and split
   * synchronously, so MESSAGE_TOO_LARGE and encoding errors throw here; `accepted` settles with the scheduler's
   * answer, and a rejection also fails the futures of keys this graph introduced.
   */
  #submitNodes(outputs: readonly GraphNode[]): { futures: Future<unknown>[]; accepted: Promise<void> } {
    this.#assertUsable();
    const session = this.#session as SchedulerSession;
    const graph = orderGraph(outputs);
    for (const holder of graph.holders) {
      if (holder.released) throw new LoomError('CANCELLED', `'${holder.key}' was released and cannot be used as an argument`, { taskKey: holder.key });
    }
    const wantedKeys = [...new Set(outputs.map((output) => output.key))];
    if (this.#fuseChains) {
      graph.tasks = fuseLinearChains(graph.tasks, { wanted: new Set(wantedKeys), held: (key) => this.#store.get(key) !== undefined });
    }
    const budget = Math.floor(Math.min(session.welcome.maxMessageBytes, this.#maxMessageBytes) / 2);
    const plan = planGraph(graph, wantedKeys, budget);

    const introduced: KeyState[] = [];
    const futures = outputs.map((output) => {
      const { state, created } = this.#store.hold(output.key);
      if (created) introduced.push(state);
      return new Future<unknown>(this.#owner, state);
    });
    if (this.#progress.active) this.#progress.graphSubmitted(graph.tasks, futures.map(futureState));
    // Everything the outputs need is already held (persisted values computed again): nothing to send.
    if (graph.tasks.length === 0 && introduced.length === 0 && graph.externals.every((external) => external.holder)) {
      return { futures, accepted: Promise.resolve() };
    }
    this.#store.flush();
    const holders = graph.holders;
    const accepted = this.#sendPlan(plan, session).then(
      () => {
        // The scheduler now holds the dependencies for the new tasks; the futures that pinned them may go.
        holders.length = 0;
      },
      (error: unknown) => {
        const failure = error instanceof LoomError ? error : fromServiceError(error, 'graph submission');
        for (const state of introduced) {
          state.remote = false;
          if (state.status === 'pending') state.settle('error', failure);
        }
        throw failure;
      },
    );
    return { futures, accepted };
  }

  async #sendPlan(plan: GraphPlan, session: SchedulerSession): Promise<void> {
    // On the session stream the scheduler knows the client: chunks leave client_id empty.
    const requests = graphRequests(plan, '');
    this.#log.debug({ graphId: plan.graphId, chunks: requests.length, wanted: plan.wantedKeys.length }, 'submitting graph');
    await session.submitGraph(plan.graphId, requests);
  }

  #unary<Req, Res>(method: MethodDefinition<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.#grpc.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        callMetadata(this.#token),
        {},
        (error, response) => {
          if (error || response === undefined) reject(fromServiceError(error ?? new Error('empty response'), method.path));
          else resolve(response);
        },
      );
    });
  }

  #lost(error: LoomError): void {
    const lost = new LoomError('INTERNAL', `lost the session with the scheduler at ${this.address}: ${error.message}`);
    this.#log.error({ err: error.message }, 'scheduler session lost');
    this.#unusable = lost;
    forgetClient(this);
    this.#store.failPending(lost);
  }

  #assertUsable(): void {
    if (this.#unusable) throw this.#unusable;
  }
}

function waitForReady(grpc: GrpcClient, address: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    grpc.waitForReady(Date.now() + timeoutMs, (error) => {
      if (error) reject(new LoomError('INTERNAL', `cannot reach the Loom scheduler at ${address} within ${timeoutMs} ms: ${error.message}`));
      else resolve();
    });
  });
}
