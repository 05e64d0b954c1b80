// Waiting for many futures at once: gather (values of futures nested in arrays and plain objects, one waiter
// and one batched fetch for all of them) and asCompleted (futures in the order they finish).
import { Future, futureState, releasedError } from './future.js';
import type { KeyState, KeyWaiter } from './key-store.js';

/** The structure of `T` with every Future replaced by its value. */
export type Gathered<T> =
  T extends Future<infer U>
    ? U
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: Gathered<T[K]> }
      : T extends Record<string, unknown>
        ? { [K in keyof T]: Gathered<T[K]> }
        : T;

export interface GatherOwner {
  /** Fetches the values of finished keys that did not come inline; failures become the state's error. */
  fetchValues(states: readonly KeyState[]): Promise<void>;
}

export async function gather<T>(owner: GatherOwner, structure: T): Promise<Gathered<T>> {
  const states: KeyState[] = [];
  collect(structure, states, []);
  if (states.length === 0) return structure as Gathered<T>;
  await allDone(states);
  const missing = states.filter((state) => state.status === 'finished' && !state.hasValue);
  if (missing.length > 0) {
    await owner.fetchValues(missing);
    const failed = missing.find((state) => state.error !== undefined);
    if (failed) throw failed.error;
  }
  return rebuild(structure, []) as Gathered<T>;
}

function collect(value: unknown, states: KeyState[], ancestors: object[]): void {
  if (typeof value !== 'object' || value === null) return;
  if (value instanceof Future) {
    if (value.released) throw releasedError(value.key);
    states.push(futureState(value));
    return;
  }
  if (!isContainer(value) || ancestors.includes(value)) return;
  ancestors.push(value);
  for (const item of Object.values(value)) collect(item, states, ancestors);
  ancestors.pop();
}

function rebuild(value: unknown, ancestors: object[]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Future) return futureState(value).value;
  if (!isContainer(value) || ancestors.includes(value)) return value;
  ancestors.push(value);
  let result: unknown;
  if (Array.isArray(value)) {
    result = value.map((item: unknown) => rebuild(item, ancestors));
  } else {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = rebuild(item, ancestors);
    result = copy;
  }
  ancestors.pop();
  return result;
}

function isContainer(value: object): boolean {
  if (Array.isArray(value)) return true;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Resolves when every state is finished; rejects with the first error or cancellation seen. */
function allDone(states: readonly KeyState[]): Promise<void> {
  for (const state of states) {
    if (state.status === 'error' || state.status === 'cancelled') return Promise.reject(state.error);
  }
  const pending = states.filter((state) => state.status === 'pending');
  if (pending.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let remaining = pending.length;
    const waiter: KeyWaiter = {
      keyDone(state) {
        if (state.status !== 'finished') reject(state.error);
        else if (--remaining === 0) resolve();
      },
    };
    for (const state of pending) state.addWaiter(waiter);
  });
}

/** Yields each future once it is done (finished, erred or cancelled), in completion order. */
export async function* asCompleted<T>(futures: Iterable<Future<T>>): AsyncGenerator<Future<T>, void, undefined> {
  const ready: Future<T>[] = [];
  let wake: (() => void) | undefined;
  let outstanding = 0;
  const waitingFutures = new Map<KeyState, Future<T>[]>();
  const waiter: KeyWaiter = {
    keyDone(state) {
      const done = waitingFutures.get(state) ?? [];
      waitingFutures.delete(state);
      outstanding -= done.length;
      ready.push(...done);
      wake?.();
    },
  };
  for (const future of futures) {
    const state = futureState(future);
    if (future.released || state.status !== 'pending') {
      ready.push(future);
      continue;
    }
    let list = waitingFutures.get(state);
    if (!list) {
      waitingFutures.set(state, (list = []));
      state.addWaiter(waiter);
    }
    list.push(future);
    outstanding += 1;
  }
  let next = 0;
  while (next < ready.length || outstanding > 0) {
    if (next < ready.length) {
      yield ready[next] as Future<T>;
      next += 1;
      continue;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
}
