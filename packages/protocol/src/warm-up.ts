// What the start-up warm-ups of the scheduler, the worker and the client share. V8 runs new code slowly at first
// (interpreted, then compiled as it gets hot), so each process drives its own hot paths with synthetic work on
// private state before its first real graph; these are the switch, a logger that says nothing, and a stand-in
// for a gRPC stream that carries messages through the real encoders and decoders without a network.
import { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';

/**
 * `LOOM_WARMUP=1` (or `true`, `on`) turns the start-up warm-ups on. They are off by default: on a small machine
 * they cost about as much start-up CPU as they save on the first graph, so only a cluster that starts once and
 * then serves latency-sensitive first graphs gains from them.
 */
export const WARMUP_ENV = 'LOOM_WARMUP';

export function warmUpEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[WARMUP_ENV]?.trim().toLowerCase();
  return value === '1' || value === 'true' || value === 'on';
}

/** For private state driven by a warm-up: its routine lines are not the process's. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Resolves on a later event-loop turn, so work queued with setImmediate (flushes, dispatches) runs first. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * One end of a gRPC stream kept in this process: `write` encodes with the method's real serializer and hands
 * the bytes to the other end, with the message itself (a stand-in peer may read that rather than spend time
 * decoding what is not its process's code); `receive` decodes bytes with the real deserializer and emits them
 * as 'data' on a later turn, as grpc-js does. It offers what Loom's stream handlers use of a ServerDuplexStream or a
 * ClientDuplexStream (write, end, cancel, resume, metadata, events); a warm-up casts it to that type.
 */
export class LoopbackStream<Outgoing, Incoming> extends EventEmitter {
  readonly metadata = new Metadata();
  ended = false;

  constructor(
    private readonly serialize: (message: Outgoing) => Buffer,
    private readonly deserialize: (bytes: Buffer) => Incoming,
    private readonly peer: (bytes: Buffer, message: Outgoing) => void,
    /** Called once when this end ends or cancels (a client's stream then gets its status from the other end). */
    private readonly onEnd: () => void = () => undefined,
  ) {
    super();
  }

  write(message: Outgoing): boolean {
    if (!this.ended) this.peer(this.serialize(message), message);
    return true;
  }

  receive(bytes: Buffer): void {
    setImmediate(() => {
      if (!this.ended) this.emit('data', this.deserialize(bytes));
    });
  }

  end(): void {
    this.finish();
  }

  cancel(): void {
    this.finish();
  }

  resume(): this {
    return this;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
  }
}
