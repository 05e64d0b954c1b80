// Values loaded once per process and shared by its task threads. The worker gives its threads nothing to share
// (each is a worker_threads Worker with its own heap), so threads find each other on a BroadcastChannel, which
// reaches every thread of the process and carries SharedArrayBuffers by reference: one thread loads a value
// into shared memory and the others get the same memory, not a copy.
//
// Protocol, per key: a thread without the value asks (`want`); a thread holding it answers (`have`), a thread
// loading it says so (`loading`). Nobody answering within WANT_WAIT_MS means nobody holds it: the thread claims
// it (`loading`), waits CLAIM_SETTLE_MS for rival claims, and the lowest thread id among the claimants loads
// it and sends it to all (`have`), or its failure (`failed`). A holder busy in synchronous code longer than
// WANT_WAIT_MS can cause a second load in the same process: the cost is memory and time, never a wrong value.
import { BroadcastChannel, threadId } from 'node:worker_threads';

/** What a cache holds: JSON-able data and shared bytes. Anything else would be copied per thread. */
export interface SharedValue {
  readonly buffer: SharedArrayBuffer;
  readonly meta: unknown;
}

type Message =
  | { type: 'want'; key: string; from: number }
  | { type: 'loading'; key: string; from: number }
  | { type: 'have'; key: string; from: number; value: SharedValue }
  | { type: 'failed'; key: string; from: number; message: string };

/** How long a thread waits for a holder to answer before it concludes nobody holds the value. */
const WANT_WAIT_MS = 100;
/** How long a claimant waits for rival claims before it loads. */
const CLAIM_SETTLE_MS = 25;
/** How long a thread waits for another's load before it takes the loader for gone and loads itself. */
const LOADER_WAIT_MS = 120_000;

export interface Acquired {
  value: SharedValue;
  /** Whether this call loaded it (false: this thread held it already, or another thread of the process did). */
  loaded: boolean;
}

interface Waiter {
  resolve: (value: SharedValue) => void;
  reject: (error: Error) => void;
  /** Threads that claimed the key while this thread waited. */
  claims: Set<number>;
}

export class ThreadSharedCache {
  readonly #name: string;
  readonly #capacity: number;
  #channel: BroadcastChannel | undefined;
  /** Values this thread holds, least recently used first. */
  readonly #held = new Map<string, SharedValue>();
  readonly #acquiring = new Map<string, Promise<Acquired>>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #loading = new Set<string>();

  /** `name` names the channel (one per kind of value); `capacity` is how many values a thread keeps. */
  constructor(name: string, capacity: number) {
    this.#name = name;
    this.#capacity = capacity;
  }

  /** The value of `key`: held here, from another thread of this process, or loaded by `load` (in one thread). */
  acquire(key: string, load: () => Promise<SharedValue>): Promise<Acquired> {
    const held = this.#held.get(key);
    if (held !== undefined) {
      this.#held.delete(key);
      this.#held.set(key, held);
      return Promise.resolve({ value: held, loaded: false });
    }
    let acquiring = this.#acquiring.get(key);
    if (acquiring === undefined) {
      acquiring = this.#resolve(key, load).finally(() => this.#acquiring.delete(key));
      this.#acquiring.set(key, acquiring);
    }
    return acquiring;
  }

  async #resolve(key: string, load: () => Promise<SharedValue>): Promise<Acquired> {
    const channel = this.#open();
    let settled: { value: SharedValue } | { error: Error } | undefined;
    const done = new Promise<void>((resolve) => {
      this.#waiters.set(key, {
        resolve: (value) => ((settled ??= { value }), resolve()),
        reject: (error) => ((settled ??= { error }), resolve()),
        claims: new Set(),
      });
    });
    const waiter = this.#waiters.get(key) as Waiter;
    const outcome = (): Acquired | undefined => {
      if (settled === undefined) return undefined;
      if ('error' in settled) throw settled.error;
      this.#hold(key, settled.value);
      return { value: settled.value, loaded: false };
    };
    try {
      channel.postMessage({ type: 'want', key, from: threadId } satisfies Message);
      await within(done, WANT_WAIT_MS);
      for (;;) {
        const answered = outcome();
        if (answered !== undefined) return answered;
        if (waiter.claims.size > 0) {
          // Another thread claimed it: wait for its load (or its failure); a claimant that vanished is waited out.
          await within(done, LOADER_WAIT_MS);
          const loaded = outcome();
          if (loaded !== undefined) return loaded;
          waiter.claims.clear();
        }
        channel.postMessage({ type: 'loading', key, from: threadId } satisfies Message);
        this.#loading.add(key);
        await within(done, CLAIM_SETTLE_MS);
        const meanwhile = outcome();
        if (meanwhile !== undefined) return meanwhile;
        if ([...waiter.claims].some((rival) => rival < threadId)) {
          this.#loading.delete(key);
          continue;
        }
        break;
      }
      let value: SharedValue;
      try {
        value = await load();
      } catch (error) {
        channel.postMessage({ type: 'failed', key, from: threadId, message: error instanceof Error ? error.message : String(error) } satisfies Message);
        throw error;
      }
      this.#hold(key, value);
      channel.postMessage({ type: 'have', key, from: threadId, value } satisfies Message);
      return { value, loaded: true };
    } finally {
      this.#loading.delete(key);
      this.#waiters.delete(key);
    }
  }

  #open(): BroadcastChannel {
    if (this.#channel === undefined) {
      const channel = new BroadcastChannel(this.#name);
      // The channel must not keep a task thread (or a test process) alive.
      channel.unref();
      channel.onmessage = (event) => this.#receive((event as { data: Message }).data);
      this.#channel = channel;
    }
    return this.#channel;
  }

  #receive(message: Message): void {
    const waiter = this.#waiters.get(message.key);
    switch (message.type) {
      case 'want': {
        const held = this.#held.get(message.key);
        if (held !== undefined) this.#open().postMessage({ type: 'have', key: message.key, from: threadId, value: held } satisfies Message);
        else if (this.#loading.has(message.key)) this.#open().postMessage({ type: 'loading', key: message.key, from: threadId } satisfies Message);
        return;
      }
      case 'loading':
        waiter?.claims.add(message.from);
        return;
      case 'have':
        waiter?.resolve(message.value);
        return;
      case 'failed':
        waiter?.reject(new Error(`thread ${message.from} of this process failed to load it: ${message.message}`));
        return;
    }
  }

  #hold(key: string, value: SharedValue): void {
    this.#held.delete(key);
    this.#held.set(key, value);
    while (this.#held.size > this.#capacity) {
      const oldest = this.#held.keys().next().value as string;
      this.#held.delete(oldest);
    }
  }
}

/** Resolves when `done` does or after `ms`, whichever is first, leaving no timer behind. */
async function within(done: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
