// One snapshot per interval, shared by every viewer: a timer (running only while someone watches) asks the
// source for the cluster's state and the task events since the last tick, serializes the update once, and
// writes the same bytes to every open event stream. JSON readers get the latest snapshot, refreshed at most
// once per interval however many ask. A viewer whose session ended, or who reads too slowly, is disconnected.
import type { ServerResponse } from 'node:http';
import { TASK_EVENT_KINDS, type DashboardSnapshot, type DashboardSource, type SnapshotLimits, type TaskEvent, type TaskFailureView } from './snapshot.js';

export interface FeedOptions {
  /** Milliseconds between updates (default 250: four a second). */
  intervalMs?: number;
  limits?: Partial<SnapshotLimits>;
  /** Task events sent per update at most (the newest, if more finished in one interval). */
  eventsPerUpdate?: number;
  /** Task events a new viewer gets to fill its stream. */
  eventsOnConnect?: number;
}

/** Task events on the wire: dictionaries of names and one flat row of numbers per event (a tenth of the JSON objects). */
export interface PackedEvents {
  workers: string[];
  prefixes: string[];
  /**
   * Per event: seq, worker index, prefix index, start (ms before `atMs`), duration ms, kind (index in
   * TASK_EVENT_KINDS), thread (from 1; 0 for transfers and spill I/O).
   */
  rows: number[];
  /** Events that finished in the interval but were not sent (more than eventsPerUpdate). */
  dropped: number;
}

export interface FeedUpdate {
  snapshot: DashboardSnapshot;
  events: PackedEvents;
  failures: TaskFailureView[];
}

interface Viewer {
  response: ServerResponse;
  stillAllowed: () => boolean;
}

/** A viewer this far behind (bytes queued on its socket) is cut off rather than buffered without bound. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const FAILURES_PER_UPDATE = 20;
export const EVENT_FIELDS = 7;

export class SnapshotFeed {
  readonly intervalMs: number;
  private readonly limits: SnapshotLimits;
  private readonly eventsPerUpdate: number;
  private readonly eventsOnConnect: number;
  private readonly viewers = new Set<Viewer>();
  private timer: NodeJS.Timeout | undefined;
  private cached: DashboardSnapshot | undefined;
  private lastEventSeq = 0;
  private lastFailureSeq = 0;
  /** For tasks per second: the finished total and time of the previous snapshot. */
  private previous: { atMs: number; finished: number } | undefined;

  constructor(
    private readonly source: DashboardSource,
    options: FeedOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 250;
    this.limits = { workers: options.limits?.workers ?? 512, prefixes: options.limits?.prefixes ?? 64 };
    // 2,000 rectangles a second is more than a 15-second canvas can tell apart; what every open page must parse
    // (the cost of the dashboard to the machine, beyond the scheduler) grows with it. At 2,000 an update, three
    // streams took a fifth of a core to parse during a fast graph on a 2-core machine.
    this.eventsPerUpdate = options.eventsPerUpdate ?? 500;
    this.eventsOnConnect = options.eventsOnConnect ?? 2000;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** The cluster now, computed at most once per interval whoever asks. */
  snapshot(): DashboardSnapshot {
    const cached = this.cached;
    if (cached !== undefined && Date.now() - cached.atMs < this.intervalMs) return cached;
    return this.takeSnapshot();
  }

  /** Opens a server-sent event stream: the recent past first (`init`), then an `update` per interval. */
  subscribe(response: ServerResponse, stillAllowed: () => boolean): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const snapshot = this.snapshot();
    // While updates run, a newcomer's past ends where the next shared update starts, so it sees no event twice.
    const running = this.timer !== undefined;
    const events = this.source.taskEvents(0, this.eventsOnConnect);
    const failures = this.source.failures(FAILURES_PER_UPDATE);
    const init: FeedUpdate = {
      snapshot,
      events: pack(running ? events.filter((event) => event.seq <= this.lastEventSeq) : events, snapshot.atMs, 0),
      failures: running ? failures.filter((failure) => failure.seq <= this.lastFailureSeq) : failures,
    };
    response.write(`retry: 2000\nevent: init\ndata: ${JSON.stringify(init)}\n\n`);
    const viewer: Viewer = { response, stillAllowed };
    this.viewers.add(viewer);
    response.on('close', () => this.viewers.delete(viewer));
    if (this.timer === undefined) {
      // Events before this first viewer went out in its init; the first update starts after them.
      this.lastEventSeq = Math.max(this.lastEventSeq, lastSeq(init.events));
      this.lastFailureSeq = Math.max(this.lastFailureSeq, init.failures.at(-1)?.seq ?? 0);
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const viewer of this.viewers) viewer.response.end();
    this.viewers.clear();
  }

  private tick(): void {
    if (this.viewers.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const update = this.nextUpdate();
    const frame = `event: update\ndata: ${JSON.stringify(update)}\n\n`;
    for (const viewer of this.viewers) {
      if (!viewer.stillAllowed()) {
        viewer.response.end('event: unauthorized\ndata: {}\n\n');
        this.viewers.delete(viewer);
      } else if (viewer.response.writableLength > MAX_QUEUED_BYTES) {
        viewer.response.destroy();
        this.viewers.delete(viewer);
      } else {
        viewer.response.write(frame);
      }
    }
  }

  private nextUpdate(): FeedUpdate {
    const snapshot = this.takeSnapshot();
    const recent = this.source.taskEvents(this.lastEventSeq, this.eventsPerUpdate);
    const newest = recent.at(-1)?.seq ?? this.lastEventSeq;
    const dropped = recent.length === 0 ? 0 : Math.max(0, recent[0]!.seq - this.lastEventSeq - 1);
    this.lastEventSeq = newest;
    const failures = this.source.failures(FAILURES_PER_UPDATE).filter((failure) => failure.seq > this.lastFailureSeq);
    this.lastFailureSeq = failures.at(-1)?.seq ?? this.lastFailureSeq;
    return { snapshot, events: pack(recent, snapshot.atMs, dropped), failures };
  }

  private takeSnapshot(): DashboardSnapshot {
    const taken = this.source.snapshot(this.limits);
    const finished = taken.totals.finishedTotal;
    const previous = this.previous;
    let tasksPerSecond = this.cached?.tasksPerSecond ?? 0;
    // A rate over a sliver of time is noise: it is measured over at least half an interval.
    if (previous === undefined) this.previous = { atMs: taken.atMs, finished };
    else if (taken.atMs - previous.atMs >= this.intervalMs / 2) {
      tasksPerSecond = (Math.max(0, finished - previous.finished) * 1000) / (taken.atMs - previous.atMs);
      this.previous = { atMs: taken.atMs, finished };
    }
    this.cached = { ...taken, tasksPerSecond };
    return this.cached;
  }
}

function pack(events: readonly TaskEvent[], atMs: number, dropped: number): PackedEvents {
  const workers: string[] = [];
  const prefixes: string[] = [];
  const workerIndex = new Map<string, number>();
  const prefixIndex = new Map<string, number>();
  const rows: number[] = [];
  for (const event of events) {
    let w = workerIndex.get(event.worker);
    if (w === undefined) workerIndex.set(event.worker, (w = workers.push(event.worker) - 1));
    let p = prefixIndex.get(event.prefix);
    if (p === undefined) prefixIndex.set(event.prefix, (p = prefixes.push(event.prefix) - 1));
    rows.push(event.seq, w, p, round2(atMs - event.startMs), round2(event.stopMs - event.startMs), TASK_EVENT_KINDS.indexOf(event.kind), event.thread);
  }
  return { workers, prefixes, rows, dropped };
}

function lastSeq(events: PackedEvents): number {
  return events.rows.length === 0 ? 0 : events.rows[events.rows.length - EVENT_FIELDS]!;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
