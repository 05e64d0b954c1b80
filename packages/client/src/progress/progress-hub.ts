// The client's side of progress: the trackers that want to see the graphs it submits. With none attached the
// client pays one size check per submitted graph and nothing per key.
import type { KeyState } from '../key-store.js';
import type { ProgressTracker, TrackedNode } from './progress-tracker.js';

export class ProgressHub {
  readonly #trackers = new Set<ProgressTracker>();

  get active(): boolean {
    return this.#trackers.size > 0;
  }

  /** `tracker` counts every graph submitted from now on, until the returned function detaches it. */
  attach(tracker: ProgressTracker): () => void {
    this.#trackers.add(tracker);
    return () => this.#trackers.delete(tracker);
  }

  graphSubmitted(tasks: readonly TrackedNode[], outputs: readonly KeyState[]): void {
    for (const tracker of this.#trackers) tracker.addGraph(tasks, outputs);
  }
}
