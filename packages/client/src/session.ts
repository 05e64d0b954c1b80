// The client's session with the scheduler (Scheduler.ClientSession): says hello, waits for the welcome that names
// the client, then carries graph chunks and release batches to the scheduler, in order, and brings back graph
// acknowledgements and KeyUpdate batches. When the stream ends for any reason the scheduler has released
// everything this client held, and the session reports it lost.
import type { ClientDuplexStream, Client as GrpcClient, Metadata } from '@grpc/grpc-js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  LoomError,
  fromServiceError,
  schedulerService,
  taskErrorFromWire,
  type loom,
} from '@loom/protocol';
import { encodeSessionSubmit, type ChunkMessage } from './graph-wire.js';

export interface SessionHandlers {
  onUpdates(updates: loom.v1.IKeyUpdate[]): void;
  /** The stream ended without close() being called. */
  onLost(error: LoomError): void;
}

export interface Welcome {
  clientId: string;
  schedulerVersion: string;
  maxMessageBytes: number;
}

/** What the client writes on the stream: a protobufjs message, or a graph chunk encoded by graph-wire. */
type Outgoing = loom.v1.IClientToScheduler | { chunk: ChunkMessage };

type SessionCall = ClientDuplexStream<Outgoing, loom.v1.ISchedulerToClient>;

interface PendingGraph {
  resolve(tasksAdded: number): void;
  reject(error: LoomError): void;
}

function serializeOutgoing(message: Outgoing): Buffer {
  return 'chunk' in message ? encodeSessionSubmit(message.chunk) : schedulerService.clientSession.requestSerialize(message);
}

export class SchedulerSession {
  private closing = false;
  private finished = false;
  private readonly pendingGraphs = new Map<string, PendingGraph>();

  private constructor(
    private readonly call: SessionCall,
    readonly welcome: Welcome,
  ) {
    call.on('status', () => {
      this.finished = true;
    });
  }

  /** Opens the stream and resolves once welcomed; rejects with UNAUTHENTICATED, or INTERNAL on timeout. */
  static open(grpc: GrpcClient, metadata: Metadata, name: string, timeoutMs: number, handlers: SessionHandlers): Promise<SchedulerSession> {
    const call: SessionCall = grpc.makeBidiStreamRequest(
      schedulerService.clientSession.path,
      serializeOutgoing,
      schedulerService.clientSession.responseDeserialize,
      metadata,
      {},
    );
    return new Promise((resolve, reject) => {
      let session: SchedulerSession | undefined;
      const timer = setTimeout(() => {
        reject(new LoomError('INTERNAL', `the scheduler did not welcome this client within ${timeoutMs} ms`));
        call.cancel();
      }, timeoutMs);
      // Received messages are decoded classes with every field present (see @loom/protocol services.ts).
      call.on('data', (message: loom.v1.SchedulerToClient) => {
        if (!session) {
          if (!message.welcome) return;
          clearTimeout(timer);
          const welcome = message.welcome;
          session = new SchedulerSession(call, {
            clientId: welcome.clientId ?? '',
            schedulerVersion: welcome.schedulerVersion ?? '',
            maxMessageBytes: welcome.maxMessageBytes ? welcome.maxMessageBytes : DEFAULT_MAX_MESSAGE_BYTES,
          });
          resolve(session);
        }
        if (message.graphAcks.length > 0) session.onAcks(message.graphAcks);
        if (message.updates.length > 0) handlers.onUpdates(message.updates);
      });
      let reported = false;
      // 'end' and 'error' may both fire: the first one says why.
      const ended = (error: LoomError): void => {
        clearTimeout(timer);
        if (reported) return;
        reported = true;
        if (!session) {
          reject(error);
          return;
        }
        session.failGraphs(error);
        if (!session.closing) handlers.onLost(error);
      };
      call.on('error', (error: unknown) => ended(fromServiceError(error, 'client session')));
      call.on('end', () => ended(new LoomError('INTERNAL', 'the scheduler ended the client session')));
      call.write({ hello: { name } });
    });
  }

  get clientId(): string {
    return this.welcome.clientId;
  }

  /**
   * Sends a graph's chunks and resolves with the number of tasks new to the scheduler once it has applied the
   * graph; rejects with the scheduler's LoomError (UNKNOWN_DEPENDENCY, CYCLIC_GRAPH, ...) when it refused it.
   */
  submitGraph(graphId: string, chunks: readonly ChunkMessage[]): Promise<number> {
    if (this.closing || this.finished) return Promise.reject(new LoomError('CANCELLED', 'the client session is closed'));
    const acknowledged = new Promise<number>((resolve, reject) => this.pendingGraphs.set(graphId, { resolve, reject }));
    for (const chunk of chunks) this.call.write({ chunk });
    return acknowledged;
  }

  /** Queues a release batch on the stream (ahead of anything written later, such as the next graph). */
  sendReleases(keys: string[]): void {
    if (this.closing || this.finished || keys.length === 0) return;
    this.call.write({ releaseKeys: keys });
  }

  /**
   * Ends the stream: the scheduler releases everything this client still holds. Resolves when the scheduler has
   * ended its side too, or after `graceMs`, when the call is cancelled so nothing keeps the process alive.
   */
  close(releaseKeys: string[], graceMs = 2_000): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    this.failGraphs(new LoomError('CANCELLED', 'the client was closed before the scheduler acknowledged the graph'));
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.call.cancel();
        resolve();
      }, graceMs);
      this.call.on('status', () => {
        clearTimeout(timer);
        resolve();
      });
      // A stream needs a reader to finish: drain whatever is still in flight.
      this.call.resume();
      if (releaseKeys.length > 0) this.call.write({ releaseKeys });
      this.call.end();
    });
  }

  private onAcks(acks: readonly loom.v1.IGraphAck[]): void {
    for (const ack of acks) {
      const pending = this.pendingGraphs.get(ack.graphId ?? '');
      if (!pending) continue;
      this.pendingGraphs.delete(ack.graphId ?? '');
      if (!ack.refused) pending.resolve(ack.tasksAdded ?? 0);
      else pending.reject(ack.error ? taskErrorFromWire(ack.error) : new LoomError('INVALID_GRAPH', 'the scheduler refused the graph'));
    }
  }

  private failGraphs(error: LoomError): void {
    for (const pending of this.pendingGraphs.values()) pending.reject(error);
    this.pendingGraphs.clear();
  }
}
