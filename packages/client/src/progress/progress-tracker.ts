// Counts a computation's tasks per task prefix (total, done, erred, cancelled) from what the client already
// knows: the graphs it submits and the settling of the keys it asked for. The scheduler reports only wanted
// keys, so a task nobody asked for is counted done when a key that needs it finishes (it must have run).
import { keyPrefix } from '@loom/protocol';
import type { KeyState, KeyWaiter } from '../key-store.js';

/** The counts of one task prefix. Every counted task is in exactly one of done, erred, cancelled or pending. */
export interface PrefixProgress {
  readonly prefix: string;
  readonly total: number;
  /** Finished: in memory on the workers (or used and released). */
  readonly done: number;
  /** Failed, counted under the prefix of the task whose own failure it was, and of each erred key asked for. */
  readonly erred: number;
  /**
   * Will not finish as far as the client can tell: released before it finished, or left behind by a computation
   * whose keys all erred or were cancelled (the scheduler does not report tasks nobody asked for).
   */
  readonly cancelled: number;
  /** total - done - erred - cancelled: waiting, queued or processing (the scheduler does not say which). */
  readonly pending: number;
}

export interface ProgressSnapshot {
  /** One entry per prefix, in the order the prefixes were first seen. */
  readonly prefixes: readonly PrefixProgress[];
  readonly total: number;
  readonly done: number;
  readonly erred: number;
  readonly cancelled: number;
  readonly pending: number;
  /** Every key asked for has settled (finished, erred or cancelled). */
  readonly settled: boolean;
}

/** What a task of a submitted graph is to the tracker: its key and the keys it needs. */
export interface TrackedNode {
  readonly key: string;
  readonly dependencies: readonly { readonly key: string }[];
}

/** Counts that come from elsewhere, such as trainMany's onProgress (`done` includes the failed ones). */
export interface ExternalCounts {
  readonly done: number;
  readonly total: number;
  readonly failed?: number;
}

class PrefixCounter {
  total = 0;
  done = 0;
  erred = 0;
  cancelled = 0;
  constructor(readonly prefix: string) {}

  get pending(): number {
    return this.total - this.done - this.erred - this.cancelled;
  }
}

/** The keys one submission introduced and how many of its wanted keys are still to settle. */
interface Submission {
  readonly keys: string[];
  unsettled: number;
}

interface PendingTask {
  readonly counter: PrefixCounter;
  readonly dependencies: readonly string[];
  readonly submission: Submission;
}

export type ProgressListener = (snapshot: ProgressSnapshot) => void;

export class ProgressTracker {
  readonly #counters = new Map<string, PrefixCounter>();
  /** Counted tasks not yet done, erred or cancelled: entries leave as they settle, so memory follows the work left. */
  readonly #pending = new Map<string, PendingTask>();
  readonly #listeners = new Set<ProgressListener>();
  #unsettledOutputs = 0;
  #notifyQueued = false;
  #version = 0;

  /** Bumped on every change, so a display can skip a redraw when nothing moved. */
  get version(): number {
    return this.#version;
  }

  /** True when every key asked for has settled. */
  get settled(): boolean {
    return this.#unsettledOutputs === 0;
  }

  /**
   * Counts the tasks of a submitted graph and watches the keys it asked for. `tasks` are the tasks sent (in any
   * order); `outputs` the states of the wanted keys, which may be tasks of the graph or keys already held.
   */
  addGraph(tasks: readonly TrackedNode[], outputs: readonly KeyState[]): void {
    const submission: Submission = { keys: [], unsettled: 0 };
    for (const task of tasks) this.#count(task.key, task.dependencies.map((dependency) => dependency.key), submission);
    const watched = new Set(outputs);
    // All outputs count as unsettled before any settles, so an output held already cannot end the submission early.
    submission.unsettled = watched.size;
    this.#unsettledOutputs += watched.size;
    for (const state of watched) this.#count(state.key, [], submission);
    for (const state of watched) {
      if (state.status === 'pending') state.addWaiter(this.#waiterFor(submission));
      else this.#settleOutput(state, submission);
    }
    this.#changed();
  }

  /** Counts keys held already (futures): each is its own output, with no dependencies the tracker knows of. */
  addKeys(states: readonly KeyState[]): void {
    this.addGraph([], states);
  }

  /** Sets the counts of an outside source under `prefix` (they only grow: a smaller report is ignored). */
  setExternal(prefix: string, counts: ExternalCounts): void {
    const counter = this.#counter(prefix);
    const failed = counts.failed ?? 0;
    if (counts.total < counter.total || counts.done - failed < counter.done || failed < counter.erred) return;
    counter.total = counts.total;
    counter.done = counts.done - failed;
    counter.erred = failed;
    this.#changed();
  }

  /** Calls `listener` after each batch of changes (once per event-loop turn at most); returns its removal. */
  subscribe(listener: ProgressListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): ProgressSnapshot {
    const prefixes: PrefixProgress[] = [];
    let total = 0;
    let done = 0;
    let erred = 0;
    let cancelled = 0;
    for (const counter of this.#counters.values()) {
      const { prefix, pending } = counter;
      prefixes.push({ prefix, total: counter.total, done: counter.done, erred: counter.erred, cancelled: counter.cancelled, pending });
      total += counter.total;
      done += counter.done;
      erred += counter.erred;
      cancelled += counter.cancelled;
    }
    return { prefixes, total, done, erred, cancelled, pending: total - done - erred - cancelled, settled: this.settled };
  }

  #waiterFor(submission: Submission): KeyWaiter {
    return { keyDone: (state) => this.#settleOutput(state, submission) };
  }

  #count(key: string, dependencies: readonly string[], submission: Submission): void {
    if (this.#pending.has(key)) return;
    const counter = this.#counter(keyPrefix(key));
    counter.total++;
    this.#pending.set(key, { counter, dependencies, submission });
    submission.keys.push(key);
  }

  #counter(prefix: string): PrefixCounter {
    let counter = this.#counters.get(prefix);
    if (counter === undefined) this.#counters.set(prefix, (counter = new PrefixCounter(prefix)));
    return counter;
  }

  #settleOutput(state: KeyState, submission: Submission): void {
    if (state.status === 'finished') {
      this.#markDone(state.key);
    } else if (state.status === 'error') {
      // The error names the task whose own failure it was; when that task is ours, it is the one that erred.
      const culprit = state.error?.taskKey;
      if (culprit !== undefined && culprit !== state.key) this.#settle(culprit, 'erred');
      this.#settle(state.key, 'erred');
    } else {
      this.#settle(state.key, 'cancelled');
    }
    this.#unsettledOutputs--;
    if (--submission.unsettled === 0) this.#abandon(submission);
    this.#changed();
  }

  /** The key finished, so every task it needed did too: each is visited once, whatever the number of paths. */
  #markDone(key: string): void {
    const stack = [key];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const task = this.#pending.get(next);
      if (task === undefined) continue;
      this.#pending.delete(next);
      task.counter.done++;
      for (const dependency of task.dependencies) stack.push(dependency);
    }
  }

  #settle(key: string, as: 'erred' | 'cancelled'): void {
    const task = this.#pending.get(key);
    if (task === undefined) return;
    this.#pending.delete(key);
    task.counter[as]++;
  }

  /** Every wanted key of the submission settled: what is still pending of it will never be reported. */
  #abandon(submission: Submission): void {
    for (const key of submission.keys) {
      if (this.#pending.get(key)?.submission === submission) this.#settle(key, 'cancelled');
    }
    submission.keys.length = 0;
  }

  #changed(): void {
    this.#version++;
    if (this.#notifyQueued || this.#listeners.size === 0) return;
    this.#notifyQueued = true;
    // Settled keys arrive one by one inside a batch of key updates: one snapshot after the batch, not per key.
    queueMicrotask(() => {
      this.#notifyQueued = false;
      const snapshot = this.snapshot();
      for (const listener of [...this.#listeners]) {
        try {
          listener(snapshot);
        } catch (error) {
          process.emitWarning(`a progress listener threw: ${(error as Error).message ?? String(error)}`);
        }
      }
    });
  }
}
