// The worker's session with the scheduler: owns the WorkerSession stream and, with report-batch.ts, is the only
// place that converts between wire messages and the worker's domain types. Everything reported within one
// event-loop turn leaves as one WorkerToScheduler message, so a thousand tiny tasks finishing together cost one
// message, not a thousand; or as several, in order, when one would exceed the scheduler's message limit.
import { Client, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import {
  LoomError,
  callMetadata,
  channelCredentials,
  fromServiceError,
  grpcOptions,
  schedulerService,
  type Logger,
  type TlsFiles,
  type loom,
} from '@loom/protocol';
import type {
  FunctionSpec,
  MissingInputsReport,
  SchedulerInstructions,
  SchedulerWelcome,
  TaskAssignment,
  TaskFailedReport,
  TaskFinishedReport,
  TaskReporter,
  WorkerIdentity,
  WorkerMetrics,
} from './task-types.js';
import { ReportBatch } from './report-batch.js';

export interface SchedulerLinkOptions {
  address: string;
  token: string | undefined;
  tls: TlsFiles | undefined;
  maxMessageBytes: number | undefined;
  /** How long to wait for the scheduler to accept a connection before giving up. */
  connectTimeoutMs: number;
  logger: Logger;
}

export interface SchedulerLinkHandlers {
  /** The first message's welcome; called before any instruction of the same message. */
  welcome(welcome: SchedulerWelcome): void;
  instructions(instructions: SchedulerInstructions): void;
  /** The session ended without this worker ending it (the scheduler died, restarted or dropped us). */
  lost(error: LoomError): void;
}

type SessionCall = ClientDuplexStream<loom.v1.IWorkerToScheduler, loom.v1.SchedulerToWorker>;

export class SchedulerLink implements TaskReporter {
  private readonly client: Client;
  private call: SessionCall | undefined;
  /** This turn's reports; no message of it exceeds our own limit or the one the scheduler's welcome names. */
  private readonly batch: ReportBatch;
  private flushScheduled = false;
  /** We ended the session ourselves: its end is expected, not a loss. */
  private ending = false;
  private streamEnded = false;
  /** Our side is ended: anything reported later (a late heartbeat) has nowhere to go. */
  private halfClosed = false;
  private readonly streamDone: Promise<void>;
  private markStreamDone!: () => void;

  constructor(private readonly options: SchedulerLinkOptions) {
    this.client = new Client(options.address, channelCredentials(options.tls), grpcOptions(options.maxMessageBytes));
    this.batch = new ReportBatch(options.maxMessageBytes);
    this.streamDone = new Promise((resolve) => (this.markStreamDone = resolve));
  }

  /** Connects, says hello and resolves with the scheduler's welcome; rejects if the scheduler refuses us. */
  async open(hello: WorkerIdentity, handlers: SchedulerLinkHandlers): Promise<SchedulerWelcome> {
    const { address, connectTimeoutMs, token } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.client.waitForReady(Date.now() + connectTimeoutMs, (error) =>
        error
          ? reject(new LoomError('INTERNAL', `cannot reach the scheduler at ${address} within ${connectTimeoutMs} ms: ${error.message}`))
          : resolve(),
      );
    });
    const method = schedulerService.workerSession;
    const call: SessionCall = this.client.makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize as (bytes: Buffer) => loom.v1.SchedulerToWorker,
      callMetadata(token),
    );
    this.call = call;
    return new Promise<SchedulerWelcome>((resolve, reject) => {
      let welcomed = false;
      call.on('data', (message: loom.v1.SchedulerToWorker) => {
        if (!welcomed) {
          if (!message.welcome) {
            reject(new LoomError('INTERNAL', `the scheduler at ${address} did not start the session with a welcome`));
            call.cancel();
            return;
          }
          welcomed = true;
          const welcome = welcomeFromWire(message.welcome);
          this.batch.lowerLimit(welcome.maxMessageBytes);
          handlers.welcome(welcome);
          resolve(welcome);
        }
        const instructions = instructionsFromWire(message);
        if (instructions) handlers.instructions(instructions);
      });
      // The status event follows every error and decides; this listener only keeps the error from being thrown.
      call.on('error', () => undefined);
      call.on('status', (status: StatusObject) => {
        this.streamEnded = true;
        this.markStreamDone();
        if (!welcomed) {
          reject(
            status.code === 0
              ? new LoomError('INTERNAL', `the scheduler at ${address} closed the session before welcoming this worker`)
              : fromServiceError(status, `the scheduler at ${address} refused this worker`),
          );
        } else if (!this.ending) {
          const reason = status.code === 0 ? 'it ended the session' : `${status.details} (gRPC status ${status.code})`;
          handlers.lost(new LoomError('INTERNAL', `lost the scheduler at ${address}: ${reason}`));
        }
      });
      call.write({ hello: identityToWire(hello) });
    });
  }

  finished(report: TaskFinishedReport): void {
    this.batch.finished(report);
    this.scheduleFlush();
  }

  failed(report: TaskFailedReport): void {
    this.batch.failed(report);
    this.scheduleFlush();
  }

  missing(report: MissingInputsReport): void {
    this.batch.missing(report);
    this.scheduleFlush();
  }

  handBack(keys: string[]): void {
    this.batch.handBack(keys);
    this.scheduleFlush();
  }

  /** Keys this worker no longer holds though it said it did (a corrupt or missing spill file). */
  keysLost(keys: string[]): void {
    this.batch.keysLost(keys);
    this.scheduleFlush();
  }

  metrics(metrics: WorkerMetrics): void {
    this.batch.metrics(metrics);
    this.scheduleFlush();
  }

  /** Tells the scheduler to assign nothing more (the queued tasks handed back travel in the same turn). */
  announceClosing(): void {
    this.batch.closing();
    this.scheduleFlush();
  }

  /** Sends what is pending, ends our side and waits (bounded) for the scheduler to finish the call. */
  async close(timeoutMs: number): Promise<void> {
    this.ending = true;
    this.flush();
    if (this.call && !this.streamEnded) {
      this.halfClosed = true;
      this.call.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.streamDone, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      if (!this.streamEnded) this.call.cancel();
    }
    this.client.close();
  }

  /** Drops the session at once (the worker is going down hard). */
  abort(): void {
    this.ending = true;
    this.call?.cancel();
    this.client.close();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.isEmpty) return;
    const messages = this.batch.takeMessages();
    if (!this.call || this.streamEnded || this.halfClosed) return;
    for (const message of messages) {
      if (this.options.logger.isLevelEnabled('debug')) {
        const { finished, failed, missing, handedBack, lostKeys } = message;
        this.options.logger.debug(
          { finished: finished?.length, failed: failed?.length, missing: missing?.length, handedBack: handedBack?.length, lostKeys: lostKeys?.length },
          'sending to scheduler',
        );
      }
      this.call.write(message);
    }
  }
}

function identityToWire(identity: WorkerIdentity): loom.v1.IWorkerHello {
  return { ...identity };
}

function welcomeFromWire(welcome: loom.v1.IWorkerWelcome): SchedulerWelcome {
  return {
    workerId: welcome.workerId ?? '',
    heartbeatIntervalMs: welcome.heartbeatIntervalMs ?? 0,
    inlineValueBytes: welcome.inlineValueBytes ?? 0,
    maxMessageBytes: welcome.maxMessageBytes ?? 0,
  };
}

/** One scheduler message in the worker's terms; undefined when it asks nothing (a welcome alone). */
export function instructionsFromWire(message: loom.v1.SchedulerToWorker): SchedulerInstructions | undefined {
  const { functions, compute, freeKeys, cancel, shutdown } = message;
  if (functions.length + compute.length + freeKeys.length + cancel.length === 0 && !shutdown) return undefined;
  return {
    functions: functions.map(functionFromWire),
    freeKeys,
    compute: compute.map(taskFromWire),
    cancel: cancel.map((request) => ({ key: request.key ?? '', runId: request.runId ?? 0 })),
    shutdown,
  };
}

function functionFromWire(fn: loom.v1.IFunctionDef): FunctionSpec {
  const id = fn.id ?? '';
  const name = fn.name ?? '';
  if (fn.module) {
    return { id, name, body: { kind: 'module', specifier: fn.module.specifier ?? '', exportName: fn.module.exportName || 'default' } };
  }
  if (fn.chain) return { id, name, body: { kind: 'chain', functionIds: [...(fn.chain.functionIds ?? [])] } };
  return { id, name, body: { kind: 'source', source: fn.source ?? '' } };
}

function taskFromWire(task: loom.v1.IComputeTask): TaskAssignment {
  return {
    key: task.key ?? '',
    functionId: task.functionId ?? '',
    // Decoded bytes are a view into the whole gRPC message; posting a view to a thread would copy that whole
    // message per task. A copy of exactly the args keeps thread messages small.
    args: new Uint8Array(task.args ?? new Uint8Array(0)),
    inputs: (task.inputs ?? []).map((input) => ({ key: input.key ?? '', nbytes: input.nbytes ?? 0, holders: input.holders ?? [] })),
    sendValue: task.sendValue ?? false,
    runId: task.runId ?? 0,
  };
}
