// A stand-in scheduler for worker tests: a real grpc-js server on 127.0.0.1:0 implementing WorkerSession. It
// welcomes each worker, lets a test send it instructions, and records everything the worker reports.
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { checkToken, DEFAULT_MAX_MESSAGE_BYTES, grpcServerOptions, schedulerService, type loom } from '@loom/protocol';

export interface FakeSchedulerOptions {
  token?: string;
  heartbeatIntervalMs?: number;
  inlineValueBytes?: number;
  /** The largest message it accepts (a larger one ends the session, as with the real scheduler); told in the welcome. */
  maxMessageBytes?: number;
}

type SessionCall = ServerDuplexStream<loom.v1.WorkerToScheduler, loom.v1.ISchedulerToWorker>;

export class WorkerSession {
  readonly received: loom.v1.WorkerToScheduler[] = [];
  readonly finished = new Map<string, loom.v1.ITaskFinished>();
  readonly failed = new Map<string, loom.v1.ITaskFailed>();
  readonly missing = new Map<string, loom.v1.IMissingInputs>();
  readonly handedBack: string[] = [];
  readonly lostKeys: string[] = [];
  readonly metrics: loom.v1.IWorkerMetrics[] = [];
  closing = false;
  ended = false;
  private waiters: Array<() => void> = [];

  constructor(
    readonly hello: loom.v1.IWorkerHello,
    private readonly call: SessionCall,
  ) {}

  send(message: loom.v1.ISchedulerToWorker): void {
    this.call.write(message);
  }

  /** Ends the session from the scheduler's side, as a dying or restarting scheduler would. */
  drop(): void {
    this.call.end();
  }

  record(message: loom.v1.WorkerToScheduler): void {
    this.received.push(message);
    for (const finished of message.finished) this.finished.set(finished.key ?? '', finished);
    for (const failed of message.failed) this.failed.set(failed.key ?? '', failed);
    for (const missing of message.missing) this.missing.set(missing.key ?? '', missing);
    this.handedBack.push(...message.handedBack);
    this.lostKeys.push(...message.lostKeys);
    if (message.metrics) this.metrics.push(message.metrics);
    if (message.closing) this.closing = true;
    this.wake();
  }

  markEnded(): void {
    this.ended = true;
    this.wake();
  }

  /** Resolves once `predicate` holds, checked after every message; fails after `timeoutMs`. */
  async waitUntil(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once a heartbeat satisfies `predicate` (e.g. says a task is executing); fails after `timeoutMs`. */
  async waitForMetrics(predicate: (metrics: loom.v1.IWorkerMetrics) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const from = this.metrics.length;
    await this.waitUntil(() => this.metrics.slice(from).some(predicate), what, timeoutMs);
  }

  async waitForFinished(key: string): Promise<loom.v1.ITaskFinished> {
    await this.waitUntil(() => this.finished.has(key) || this.failed.has(key), `task '${key}' to finish`);
    const failed = this.failed.get(key);
    if (failed) throw new Error(`task '${key}' failed: ${failed.error?.message}\n${failed.error?.stack}`);
    return this.finished.get(key) as loom.v1.ITaskFinished;
  }

  async waitForFailed(key: string): Promise<loom.v1.ITaskError> {
    await this.waitUntil(() => this.failed.has(key) || this.finished.has(key), `task '${key}' to fail`);
    const failed = this.failed.get(key);
    if (!failed) throw new Error(`task '${key}' finished but was expected to fail`);
    return failed.error as loom.v1.ITaskError;
  }

  async waitForMissing(key: string): Promise<loom.v1.IMissingInputs> {
    await this.waitUntil(() => this.missing.has(key), `task '${key}' to report missing inputs`);
    return this.missing.get(key) as loom.v1.IMissingInputs;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export class FakeScheduler {
  readonly sessions: WorkerSession[] = [];
  private sessionWaiters: Array<(session: WorkerSession) => void> = [];

  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(options: FakeSchedulerOptions = {}): Promise<FakeScheduler> {
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const server = new Server(grpcServerOptions(maxMessageBytes));
    let fake: FakeScheduler | undefined;
    let nextId = 1;
    server.addService(schedulerService, {
      workerSession: (call: SessionCall) => {
        const denied = checkToken(call, options.token);
        if (denied) {
          call.emit('error', denied);
          return;
        }
        let session: WorkerSession | undefined;
        call.on('data', (message: loom.v1.WorkerToScheduler) => {
          if (!session) {
            if (!message.hello) {
              call.emit('error', { code: 3, details: 'first message lacks hello' });
              return;
            }
            session = new WorkerSession(message.hello, call);
            call.write({
              welcome: {
                workerId: `w-${nextId++}`,
                heartbeatIntervalMs: options.heartbeatIntervalMs ?? 100,
                inlineValueBytes: options.inlineValueBytes ?? 64 * 1024,
                maxMessageBytes,
              },
            });
            fake?.addSession(session);
          }
          session.record(message);
        });
        // A worker that half-closes is gone: finish the call, as the real scheduler does.
        call.on('end', () => {
          session?.markEnded();
          call.end();
        });
        call.on('error', () => session?.markEnded());
        call.on('cancelled', () => session?.markEnded());
      },
      clientSession: () => undefined,
      submitGraph: (_call: unknown, callback: (error: Error) => void) => callback(new Error('this fake scheduler serves WorkerSession only')),
      info: (_call: unknown, callback: (error: Error) => void) => callback(new Error('this fake scheduler serves WorkerSession only')),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    fake = new FakeScheduler(server, `127.0.0.1:${port}`);
    return fake;
  }

  /** The next worker session to say hello (or the first one not yet taken). */
  nextSession(timeoutMs = 15_000): Promise<WorkerSession> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a worker to connect')), timeoutMs);
      this.sessionWaiters.push((session) => {
        clearTimeout(timer);
        resolve(session);
      });
      this.handOut();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.server.forceShutdown(), 1_000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private unclaimed: WorkerSession[] = [];

  private addSession(session: WorkerSession): void {
    this.sessions.push(session);
    this.unclaimed.push(session);
    this.handOut();
  }

  private handOut(): void {
    while (this.unclaimed.length > 0 && this.sessionWaiters.length > 0) {
      (this.sessionWaiters.shift() as (session: WorkerSession) => void)(this.unclaimed.shift() as WorkerSession);
    }
  }
}
