// Which loaded input buffers a task may hand to its thread without a copy. A value fetched from a peer or read
// back from disk sits in memory nothing else refers to; counted here per task holding it, the last task to be
// dispatched owns it and its thread takes the buffer (detached on this side). Values from the store's memory are
// never counted: they stay the store's, and a thread always gets a copy.
import type { EncodedValue } from '@loom/protocol';

const NOTHING_OWNED: readonly boolean[] = [];

export class PrivateInputs {
  /** Weak: a buffer nobody counts any more leaks nothing. */
  private readonly users = new WeakMap<Uint8Array, number>();

  /** A task now holds `values`; those marked private are counted. */
  hold(values: readonly EncodedValue[], privateValues: readonly boolean[]): void {
    for (let index = 0; index < values.length; index++) {
      if (privateValues[index] !== true) continue;
      const bytes = (values[index] as EncodedValue).bytes;
      this.users.set(bytes, (this.users.get(bytes) ?? 0) + 1);
    }
  }

  /** Whether any of `values` is a private buffer some task holds. */
  includesPrivate(values: readonly EncodedValue[]): boolean {
    for (const { bytes } of values) if (this.users.has(bytes)) return true;
    return false;
  }

  /** A task lets go of `values` (dispatched or dropped). Per value: whether it was the last holder of a private one. */
  release(values: readonly EncodedValue[]): readonly boolean[] {
    if (values.length === 0) return NOTHING_OWNED;
    return values.map(({ bytes }) => {
      const users = this.users.get(bytes);
      if (users === undefined) return false;
      if (users > 1) {
        this.users.set(bytes, users - 1);
        return false;
      }
      this.users.delete(bytes);
      return true;
    });
  }
}
