// A scheduler connection for long-lived processes (job runners): one Client at a time, replaced by a new one,
// connected with exponential backoff, once the scheduler was lost (killed, restarted, network cut). Work that
// was in flight on the lost client fails; callers resubmit it (deterministic keys make that cheap).
import { LoomError } from '@loom/protocol';
import { Client, type ConnectOptions } from './client.js';

export interface ReconnectOptions extends ConnectOptions {
  /** First wait between attempts (default 100 ms); doubles up to `maxDelayMs`, with jitter. */
  initialDelayMs?: number;
  /** Longest wait between attempts (default 5 s). */
  maxDelayMs?: number;
  /** Give up after this long without a connection (default: never). */
  giveUpAfterMs?: number;
}

export class ReconnectingClient {
  readonly address: string;
  readonly #options: ReconnectOptions;
  #current: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #closed = false;
  /** Connections made, the first included. */
  connections = 0;

  constructor(address: string, options: ReconnectOptions = {}) {
    this.address = address;
    this.#options = options;
  }

  /**
   * A usable client: the current one, or, once it was lost, a new one (retrying with backoff until the
   * scheduler answers, `signal` aborts, or `giveUpAfterMs` passes). Concurrent callers share one attempt.
   */
  client(signal?: AbortSignal): Promise<Client> {
    if (this.#closed) return Promise.reject(new LoomError('CANCELLED', 'the connection is closed'));
    const current = this.#current;
    if (current !== undefined && current.unusable === undefined) return Promise.resolve(current);
    this.#connecting ??= this.#reconnect(current).finally(() => (this.#connecting = undefined));
    if (signal === undefined) return this.#connecting;
    return Promise.race([this.#connecting, aborted(signal)]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#connecting?.catch(() => undefined);
    await this.#current?.close();
    this.#current = undefined;
  }

  async #reconnect(lost: Client | undefined): Promise<Client> {
    await lost?.close().catch(() => undefined);
    this.#current = undefined;
    const { initialDelayMs = 100, maxDelayMs = 5_000, giveUpAfterMs } = this.#options;
    const started = Date.now();
    let delay = initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new LoomError('CANCELLED', 'the connection is closed');
      const left = giveUpAfterMs === undefined ? undefined : giveUpAfterMs - (Date.now() - started);
      try {
        const timeoutMs = Math.min(this.#options.timeoutMs ?? 10_000, left ?? Infinity);
        const client = await Client.connect(this.address, { ...this.#options, timeoutMs: Math.max(1, timeoutMs) });
        if (this.#closed) {
          await client.close();
          throw new LoomError('CANCELLED', 'the connection is closed');
        }
        this.#current = client;
        this.connections++;
        return client;
      } catch (error) {
        if (error instanceof LoomError && (error.code === 'UNAUTHENTICATED' || error.code === 'CANCELLED')) throw error;
        if (left !== undefined && left <= delay) {
          throw new LoomError('INTERNAL', `no Loom scheduler at ${this.address} after ${attempt} attempts in ${Date.now() - started} ms: ${(error as Error).message}`);
        }
      }
      // Full jitter: runners that lost the same scheduler do not all come back in the same millisecond.
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (): void => reject(signal.reason instanceof Error ? signal.reason : new LoomError('CANCELLED', 'aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
