// What the client knows about each key it holds: state, value or error, holders, how many Futures reference it,
// and who waits for it. The scheduler's KeyUpdates land here; when a key's last reference goes, its release is
// queued and sent in one batched message per event-loop turn.
import { LoomError, codecFromWire, decodeValue, pb, taskErrorFromWire, type loom } from '@loom/protocol';

export type KeyStatus = 'pending' | 'finished' | 'error' | 'cancelled';

/** Told once when a key leaves 'pending' (finished, erred or cancelled). */
export interface KeyWaiter {
  keyDone(state: KeyState): void;
}

export class KeyState {
  status: KeyStatus = 'pending';
  /** True once `value` holds the decoded result. */
  hasValue = false;
  value: unknown = undefined;
  /** Worker addresses holding the value, when it did not come inline. */
  holders: readonly string[] = [];
  error: LoomError | undefined = undefined;
  /** How many Futures (and in-flight computations) reference the key. */
  refs = 0;
  /** False when the scheduler never accepted the key (its graph was rejected): nothing to release then. */
  remote = true;
  /** A fetch from the holders in progress. */
  fetching: Promise<void> | undefined = undefined;
  // One waiter is the common case (a gather over many keys registers the same waiter on each): no array then.
  private waiters: KeyWaiter | KeyWaiter[] | undefined = undefined;

  constructor(readonly key: string) {}

  addWaiter(waiter: KeyWaiter): void {
    if (this.waiters === undefined) this.waiters = waiter;
    else if (Array.isArray(this.waiters)) this.waiters.push(waiter);
    else this.waiters = [this.waiters, waiter];
  }

  settle(status: Exclude<KeyStatus, 'pending'>, error?: LoomError): void {
    this.status = status;
    this.error = error;
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters === undefined) return;
    if (Array.isArray(waiters)) for (const waiter of waiters) waiter.keyDone(this);
    else waiters.keyDone(this);
  }
}

export class KeyStore {
  private readonly states = new Map<string, KeyState>();
  private readonly pendingRelease = new Set<string>();
  private flushScheduled = false;
  private closed = false;

  /** `sendRelease` gets each batch of released keys; it is called at most once per event-loop turn. */
  constructor(private readonly sendRelease: (keys: string[]) => void) {}

  get size(): number {
    return this.states.size;
  }

  get(key: string): KeyState | undefined {
    return this.states.get(key);
  }

  /**
   * Adds a reference to `key`, creating its state. `created` tells whether the key is new to the scheduler as far
   * as this client knows, so that a rejected submission fails it (and leaves keys other graphs hold alone).
   */
  hold(key: string): { state: KeyState; created: boolean } {
    let state = this.states.get(key);
    const created = state === undefined || !state.remote;
    if (state === undefined) {
      state = new KeyState(key);
      this.states.set(key, state);
    } else if (!state.remote) {
      // Its earlier graph was rejected; a new submission gets a fresh chance.
      state.remote = true;
      state.status = 'pending';
      state.error = undefined;
    }
    // Held again before its release went out: the scheduler still counts this client as holding it, and will not
    // report it again, so the state (and any value) is kept rather than recreated.
    if (state.refs === 0) this.pendingRelease.delete(key);
    state.refs += 1;
    return { state, created };
  }

  /** Drops one reference; after the last one the key's release is queued for the next batch. */
  drop(state: KeyState): void {
    state.refs -= 1;
    if (state.refs > 0 || this.states.get(state.key) !== state || this.closed) return;
    if (!state.remote) {
      this.states.delete(state.key);
      return;
    }
    this.pendingRelease.add(state.key);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends queued releases now (before a graph submission, so a release cannot overtake a re-submission). */
  flush(): void {
    this.flushScheduled = false;
    if (this.pendingRelease.size === 0 || this.closed) return;
    const keys = [...this.pendingRelease];
    this.pendingRelease.clear();
    for (const key of keys) {
      const state = this.states.get(key);
      if (state === undefined) continue;
      this.states.delete(key);
      if (state.status === 'pending') state.settle('cancelled', new LoomError('CANCELLED', `key '${key}' was released before it finished`, { taskKey: key }));
    }
    this.sendRelease(keys);
  }

  /** Applies a batch of the scheduler's KeyUpdates. */
  applyUpdates(updates: readonly loom.v1.IKeyUpdate[]): void {
    for (const update of updates) {
      const state = update.key ? this.states.get(update.key) : undefined;
      if (state) applyUpdate(state, update);
    }
  }

  /** Every key still pending fails with `error` (the session ended or the client closed). */
  failPending(error: LoomError): void {
    for (const state of this.states.values()) if (state.status === 'pending') state.settle('error', error);
  }

  /** Forgets every key without sending releases (the session's end releases them on the scheduler). */
  close(error: LoomError): void {
    this.closed = true;
    this.failPending(error);
    this.states.clear();
    this.pendingRelease.clear();
  }

  /** Keys the scheduler counts this client as holding (including releases not yet sent). */
  allKeys(): string[] {
    const keys: string[] = [];
    for (const state of this.states.values()) if (state.remote) keys.push(state.key);
    return keys;
  }
}

function applyUpdate(state: KeyState, update: loom.v1.IKeyUpdate): void {
  switch (update.state) {
    case pb.KeyUpdate.State.MEMORY:
      state.holders = update.holders ?? [];
      if (update.hasValue && !state.hasValue) {
        try {
          state.value = decodeValue({ codec: codecFromWire(update.codec), bytes: update.value ?? new Uint8Array() });
          state.hasValue = true;
        } catch (error) {
          state.settle('error', asLoomError(error, state.key));
          return;
        }
      }
      if (state.status !== 'finished') state.settle('finished');
      return;
    case pb.KeyUpdate.State.ERRED:
      if (state.status === 'pending') state.settle('error', taskErrorFromWire(update.error));
      return;
    case pb.KeyUpdate.State.CANCELLED:
      if (state.status === 'pending') {
        state.settle('cancelled', new LoomError('CANCELLED', `task '${state.key}' was cancelled by the scheduler`, { taskKey: state.key }));
      }
      return;
    default:
      return;
  }
}

function asLoomError(error: unknown, key: string): LoomError {
  if (error instanceof LoomError) return error;
  return new LoomError('SERIALIZATION_FAILED', `cannot decode the value of '${key}': ${(error as Error).message}`, { taskKey: key });
}
