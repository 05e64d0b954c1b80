// The task stream: one row per worker thread, one rectangle per task coloured by its kind, errors in black;
// above each worker's rows a thin strip of what it moved besides (inputs fetched from peers in red, spilled
// results read back in orange, written to disk in brown), as Dask draws transfers and disk reads. A task goes in
// the row of the thread the worker says ran it; one without a thread (a result the worker already held, or from
// a worker that does not say) takes the first row of its worker free at its start. At most `capacity`
// rectangles are kept (the oldest dropped) and drawing is one canvas, so a page open all day holds a bounded
// amount.
import { colourOf } from './format.js';

const FIELDS = 7;
const WINDOW_MS = 15_000;
/** Packed event kinds (TASK_EVENT_KINDS in snapshot.ts): 0 compute, 1 error, then what workers move. */
const KIND_ERROR = 1;
const ACTIVITY_COLOURS = { 2: '--transfer', 3: '--spill-read', 4: '--spill-write' };
/** Pixels of the strip over a worker's rows where its transfers and spill I/O are drawn. */
const STRIP = 4;

export class TaskStream {
  constructor(capacity) {
    this.capacity = capacity;
    /** { worker, thread, prefix, start, stop, error } in server milliseconds, oldest first; thread from 1, 0 unknown. */
    this.tasks = [];
    /** { worker, kind, start, stop }: transfers and spill I/O, kept apart so they take no task row. */
    this.moves = [];
    this.nowMs = 0;
    this.errors = 0;
    this.total = 0;
  }

  add(packed, snapshot, replace) {
    if (replace) {
      this.tasks = [];
      this.moves = [];
      this.errors = 0;
    }
    const { rows, workers, prefixes } = packed;
    for (let i = 0; i < rows.length; i += FIELDS) {
      const start = snapshot.atMs - rows[i + 3];
      const kind = rows[i + 5];
      const worker = workers[rows[i + 1]];
      if (kind in ACTIVITY_COLOURS) {
        this.moves.push({ worker, kind, start, stop: start + rows[i + 4] });
        continue;
      }
      const error = kind === KIND_ERROR;
      this.tasks.push({ worker, thread: rows[i + 6] ?? 0, prefix: prefixes[rows[i + 2]], start, stop: start + rows[i + 4], error });
      this.total += 1;
      if (error) this.errors += 1;
    }
    if (this.tasks.length > this.capacity) {
      for (const dropped of this.tasks.splice(0, this.tasks.length - this.capacity)) if (dropped.error) this.errors -= 1;
    }
    if (this.moves.length > this.capacity) this.moves.splice(0, this.moves.length - this.capacity);
    this.nowMs = snapshot.atMs;
  }

  /** Draws the last WINDOW_MS into `canvas`, a lane per thread of each worker in `workers`. */
  draw(canvas, workers) {
    const lanesOf = new Map();
    let lanes = 0;
    for (const [index, worker] of workers.entries()) {
      lanesOf.set(worker.id, { first: lanes, index, count: worker.nthreads, ends: new Array(worker.nthreads).fill(-Infinity) });
      lanes += worker.nthreads;
    }
    const laneHeight = Math.max(8, Math.min(22, Math.floor(260 / Math.max(1, lanes))));
    // Each worker's block starts with its strip: rows of worker w begin below w + 1 strips.
    const rowTop = (worker, lane) => (worker.first + lane) * laneHeight + (worker.index + 1) * STRIP;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600;
    const height = Math.max(60, lanes * laneHeight + workers.length * STRIP + 20);
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.height = `${height}px`;
    }
    const context = canvas.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const styles = getComputedStyle(document.documentElement);
    const from = this.nowMs - WINDOW_MS;
    const x = (ms) => ((ms - from) / WINDOW_MS) * width;
    context.fillStyle = styles.getPropertyValue('--line');
    for (const worker of lanesOf.values()) {
      for (let lane = worker.index === 0 ? 1 : 0; lane < worker.count; lane++) context.fillRect(0, rowTop(worker, lane) - (lane === 0 ? STRIP : 0), width, 1);
    }
    let moved = 0;
    for (const move of this.moves) {
      const worker = lanesOf.get(move.worker);
      if (worker === undefined || move.stop < from) continue;
      const left = x(move.start);
      context.fillStyle = styles.getPropertyValue(ACTIVITY_COLOURS[move.kind]);
      context.fillRect(left, rowTop(worker, 0) - STRIP, Math.max(1.5, x(move.stop) - left), STRIP - 1);
      moved += 1;
    }
    let drawn = 0;
    /** Rows (worker lane numbers) with a rectangle in view, for tests and for the eye: are all threads busy? */
    const busyRows = new Set();
    for (const task of this.tasks) {
      const worker = lanesOf.get(task.worker);
      if (worker === undefined) continue;
      let lane = task.thread - 1;
      if (lane < 0 || lane >= worker.count) {
        lane = worker.ends.findIndex((end) => end <= task.start + 0.5);
        if (lane < 0) lane = worker.ends.indexOf(Math.min(...worker.ends));
      }
      worker.ends[lane] = task.stop;
      if (task.stop < from) continue;
      const left = x(task.start);
      const top = rowTop(worker, lane) + 2;
      busyRows.add(worker.first + lane);
      const w = Math.max(1.5, x(task.stop) - left);
      context.fillStyle = task.error ? styles.getPropertyValue('--error-fill') : colourOf(task.prefix);
      context.fillRect(left, top, w, laneHeight - 4);
      if (task.error) {
        context.strokeStyle = styles.getPropertyValue('--bad');
        context.strokeRect(left - 1, top, w + 2, laneHeight - 4);
      }
      drawn += 1;
    }
    context.fillStyle = styles.getPropertyValue('--muted');
    context.font = '11px system-ui, sans-serif';
    context.fillText(`-${WINDOW_MS / 1000} s`, 4, height - 5);
    context.fillText('now', width - 24, height - 5);
    canvas.dataset.tasks = String(this.tasks.length);
    canvas.dataset.drawn = String(drawn);
    canvas.dataset.errors = String(this.errors);
    canvas.dataset.total = String(this.total);
    canvas.dataset.moves = String(moved);
    canvas.dataset.rows = String(busyRows.size);
  }
}
