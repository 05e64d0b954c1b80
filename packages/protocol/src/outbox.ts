// Outgoing entries for one stream, kept in the order they were issued and sent as few messages as the message
// limit allows. A flush cuts the entries into consecutive runs whose size bounds sum to at most the budget, so
// no message exceeds the limit (which would end the whole stream) and a later entry never overtakes an
// earlier one: a free issued before a compute of the same key still reaches the worker first. The scheduler's
// streams to workers and clients and the worker's stream to the scheduler all send through one.
import { encodedSizeBound } from './wire-size.js';

type RepeatedField<M> = { [F in keyof M]-?: NonNullable<M[F]> extends readonly unknown[] ? F : never }[keyof M];
type SingularField<M> = Exclude<keyof M, RepeatedField<M>>;
type ElementOf<M, F extends keyof M> = NonNullable<M[F]> extends ReadonlyArray<infer E> ? E : never;

interface Entry<M> {
  field: RepeatedField<M>;
  value: unknown;
  bytes: number;
}

export class Outbox<M extends object> {
  private entries: Array<Entry<M>> = [];
  private singles: Partial<M> = {};
  private singleBytes = 0;

  get isEmpty(): boolean {
    return this.entries.length === 0 && this.singleBytes === 0;
  }

  /**
   * Appends one element to the repeated field `field` of the next message. `bytes`: an upper bound on its encoded
   * size, when the caller has a cheaper one than walking the element (it must never be below the real size).
   */
  push<F extends RepeatedField<M>>(field: F, value: ElementOf<M, F>, bytes = encodedSizeBound(value)): void {
    this.entries.push({ field, value, bytes });
  }

  /**
   * Sets a singular field (a heartbeat, a flag) for the next flush, replacing an earlier value. It travels in
   * the last message of the flush, so a receiver that applies a message's singular fields after its repeated
   * ones applies it after every entry of the flush.
   */
  set<F extends SingularField<M>>(field: F, value: NonNullable<M[F]>): void {
    if (this.singles[field] !== undefined) this.singleBytes -= encodedSizeBound(this.singles[field]);
    this.singles[field] = value;
    this.singleBytes += encodedSizeBound(value);
  }

  /**
   * Takes every entry as messages, each within `budgetBytes` by the size bound (an entry larger than the budget
   * on its own travels alone: the sender must make sure none is larger than the receiver's limit).
   */
  takeMessages(budgetBytes: number): M[] {
    const messages: M[] = [];
    let message: Record<PropertyKey, unknown> | undefined;
    let used = 0;
    const startMessage = () => {
      message = {};
      messages.push(message as M);
      used = 0;
    };
    for (const entry of this.entries) {
      if (message === undefined || used + entry.bytes > budgetBytes) startMessage();
      ((message![entry.field as PropertyKey] ??= []) as unknown[]).push(entry.value);
      used += entry.bytes;
    }
    if (this.singleBytes > 0) {
      if (message === undefined || used + this.singleBytes > budgetBytes) startMessage();
      Object.assign(message!, this.singles);
    }
    this.entries = [];
    this.singles = {};
    this.singleBytes = 0;
    return messages;
  }
}
