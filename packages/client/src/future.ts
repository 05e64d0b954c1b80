// A Future is a handle on one key the client holds on the cluster: its status, its result, and its release.
// Every Future counts as one reference to its key; the key is released when its last Future is released,
// explicitly, when the Future is garbage-collected, or when the client closes.
import { LoomError } from '@loom/protocol';
import type { KeyState, KeyStatus } from './key-store.js';
import { AS_DEPENDENCY, type Dependable, type ExternalRef, type KeyHolder } from './task-node.js';

export type FutureStatus = KeyStatus;

/** What a Future needs from its client. */
export interface FutureOwner {
  /** The value of a finished key, fetched from its holders if it did not come inline. */
  fetchValue(state: KeyState): Promise<unknown>;
  /** Drops one reference to the key. */
  dropReference(state: KeyState): void;
  /** Releases the key when an unreleased Future is garbage-collected. */
  readonly finalizer: FinalizationRegistry<KeyState>;
}

let stateOf: (future: Future<unknown>) => KeyState;

export class Future<T = unknown> implements Dependable, KeyHolder {
  readonly key: string;
  readonly #owner: FutureOwner;
  readonly #state: KeyState;
  #released = false;

  static {
    stateOf = (future) => future.#state;
  }

  /** Futures come from a Client (submit, map, compute); the state must already count this reference. */
  constructor(owner: FutureOwner, state: KeyState) {
    this.key = state.key;
    this.#owner = owner;
    this.#state = state;
    owner.finalizer.register(this, state, this);
  }

  /** 'pending' until the key finishes, errs or is cancelled; 'cancelled' after release(). */
  get status(): FutureStatus {
    return this.#released ? 'cancelled' : this.#state.status;
  }

  get released(): boolean {
    return this.#released;
  }

  done(): boolean {
    return this.status !== 'pending';
  }

  /** The task's value; rejects with the task's LoomError (TASK_FAILED with the remote stack, CANCELLED, ...). */
  result(): Promise<T> {
    if (this.#released) return Promise.reject(releasedError(this.key));
    return resultOf(this.#owner, this.#state) as Promise<T>;
  }

  /** Gives up this reference; the key is released on the cluster when no other Future holds it. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#owner.finalizer.unregister(this);
    this.#owner.dropReference(this.#state);
  }

  [AS_DEPENDENCY](): ExternalRef {
    if (this.#released) throw releasedError(this.key);
    return { kind: 'external', key: this.key, holder: this };
  }

  toString(): string {
    return `Future<${this.key}: ${this.status}>`;
  }
}

/** The KeyState behind a Future (for gather and asCompleted; not part of the public API). */
export function futureState(future: Future<unknown>): KeyState {
  return stateOf(future);
}

export function releasedError(key: string): LoomError {
  return new LoomError('CANCELLED', `the future for '${key}' was released; its value is no longer available`, { taskKey: key });
}

/** Resolves with the key's value once it is done (fetching it if needed), or rejects with its error. */
export function resultOf(owner: FutureOwner, state: KeyState): Promise<unknown> {
  if (state.status === 'pending') {
    return new Promise((resolve, reject) => {
      state.addWaiter({ keyDone: (done) => settledResult(owner, done).then(resolve, reject) });
    });
  }
  return settledResult(owner, state);
}

function settledResult(owner: FutureOwner, state: KeyState): Promise<unknown> {
  if (state.status === 'finished') return state.hasValue ? Promise.resolve(state.value) : owner.fetchValue(state);
  return Promise.reject(state.error ?? new LoomError('INTERNAL', `key '${state.key}' is ${state.status} without an error`));
}
