// What a worker moves besides running tasks: bytes fetched from peers and sent to them, results written to and
// read back from spill files. Running totals feed the scheduler's Prometheus counters; the spans since the last
// heartbeat feed the dashboard's task stream, where transfers and spill reads are drawn beside the tasks.
// Spans go out with the heartbeat, timed relative to it, since no clock is shared between machines. At most
// `capacity` spans wait for a heartbeat (the newest; the others are only counted), so a burst of tiny transfers
// costs a bounded message and nothing grows between heartbeats. Beside the totals, what is moving right now
// (Dask's transfer_incoming/outgoing gauges): a worker stuck on a slow peer shows bytes in flight that do not go.

export type ActivityKind = 'transfer' | 'spill-read' | 'spill-write';

export interface ActivitySpan {
  kind: ActivityKind;
  /** performance.now() when it started. */
  startedAt: number;
  durationMs: number;
  bytes: number;
  /** The peer fetched from (transfers). */
  peer?: string;
}

export interface ActivityTotals {
  spillWriteBytesTotal: number;
  spillReadBytesTotal: number;
  transferIncomingBytesTotal: number;
  transferOutgoingBytesTotal: number;
}

/** Transfers open now: GetData calls this worker is waiting on, and calls it is answering. */
export interface TransfersInFlight {
  transferIncomingCalls: number;
  /** The sizes (as the scheduler reported them) of the keys those calls have not delivered yet. */
  transferIncomingBytes: number;
  transferOutgoingCalls: number;
  /** Bytes of the values being sent that have not been written to their streams yet. */
  transferOutgoingBytes: number;
}

/** Spans a heartbeat carries at most: a few hundred rectangles a second per worker is all a task stream shows. */
export const DEFAULT_ACTIVITY_CAPACITY = 256;

export class WorkerActivity {
  readonly totals: ActivityTotals = { spillWriteBytesTotal: 0, spillReadBytesTotal: 0, transferIncomingBytesTotal: 0, transferOutgoingBytesTotal: 0 };
  /** Kept by the fetcher and the data server as calls open, deliver and close. */
  readonly inFlight: TransfersInFlight = { transferIncomingCalls: 0, transferIncomingBytes: 0, transferOutgoingCalls: 0, transferOutgoingBytes: 0 };
  /** A ring: the next span goes to `#next % capacity`; `#count` are held. */
  readonly #ring: (ActivitySpan | undefined)[];
  #next = 0;
  #count = 0;
  #dropped = 0;

  constructor(private readonly capacity = DEFAULT_ACTIVITY_CAPACITY) {
    this.#ring = new Array<ActivitySpan | undefined>(capacity);
  }

  /** A fetch from `peer` that started at `startedAt` (performance.now()) and brought `bytes`. */
  transferred(peer: string, startedAt: number, bytes: number): void {
    this.totals.transferIncomingBytesTotal += bytes;
    this.#push({ kind: 'transfer', startedAt, durationMs: performance.now() - startedAt, bytes, peer });
  }

  /** Bytes of results sent to a peer or a client (counted only: the receiver draws the transfer). */
  sent(bytes: number): void {
    this.totals.transferOutgoingBytesTotal += bytes;
  }

  spillWritten(startedAt: number, bytes: number): void {
    this.totals.spillWriteBytesTotal += bytes;
    this.#push({ kind: 'spill-write', startedAt, durationMs: performance.now() - startedAt, bytes });
  }

  spillRead(startedAt: number, bytes: number): void {
    this.totals.spillReadBytesTotal += bytes;
    this.#push({ kind: 'spill-read', startedAt, durationMs: performance.now() - startedAt, bytes });
  }

  /** The spans since the last call, and how many more there were; both start again from nothing. */
  take(): { spans: ActivitySpan[]; dropped: number } {
    const spans: ActivitySpan[] = [];
    for (let i = this.#next - this.#count; i < this.#next; i++) spans.push(this.#ring[i % this.capacity] as ActivitySpan);
    const taken = { spans, dropped: this.#dropped };
    this.#ring.fill(undefined);
    this.#count = 0;
    this.#dropped = 0;
    return taken;
  }

  #push(span: ActivitySpan): void {
    if (this.#count === this.capacity) this.#dropped += 1;
    else this.#count += 1;
    this.#ring[this.#next % this.capacity] = span;
    this.#next += 1;
  }
}
