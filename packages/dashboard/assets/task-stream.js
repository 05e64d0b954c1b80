// The task stream: one row per worker thread, one rectangle per task coloured by its kind, errors in black.
// Workers report when a result arrived and how long the run took, not which thread ran it, so rows are packed
// here: a task takes the first row of its worker that is free at its start. At most `capacity` rectangles are
// kept (the oldest dropped) and drawing is one canvas, so a page open all day holds a bounded amount.
import { colourOf } from './format.js';

const FIELDS = 6;
const WINDOW_MS = 15_000;

export class TaskStream {
  constructor(capacity) {
    this.capacity = capacity;
    /** { worker, prefix, start, stop, error } in server milliseconds, oldest first. */
    this.tasks = [];
    this.nowMs = 0;
    this.errors = 0;
    this.total = 0;
  }

  add(packed, snapshot, replace) {
    if (replace) {
      this.tasks = [];
      this.errors = 0;
    }
    const { rows, workers, prefixes } = packed;
    for (let i = 0; i < rows.length; i += FIELDS) {
      const start = snapshot.atMs - rows[i + 3];
      const error = rows[i + 5] === 1;
      this.tasks.push({ worker: workers[rows[i + 1]], prefix: prefixes[rows[i + 2]], start, stop: start + rows[i + 4], error });
      this.total += 1;
      if (error) this.errors += 1;
    }
    if (this.tasks.length > this.capacity) {
      for (const dropped of this.tasks.splice(0, this.tasks.length - this.capacity)) if (dropped.error) this.errors -= 1;
    }
    this.nowMs = snapshot.atMs;
  }

  /** Draws the last WINDOW_MS into `canvas`, a lane per thread of each worker in `workers`. */
  draw(canvas, workers) {
    const lanesOf = new Map();
    let lanes = 0;
    for (const worker of workers) {
      lanesOf.set(worker.id, { first: lanes, count: worker.nthreads, ends: new Array(worker.nthreads).fill(-Infinity) });
      lanes += worker.nthreads;
    }
    const laneHeight = Math.max(8, Math.min(22, Math.floor(260 / Math.max(1, lanes))));
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600;
    const height = Math.max(60, lanes * laneHeight + 20);
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
    for (let lane = 1; lane < lanes; lane++) context.fillRect(0, lane * laneHeight, width, 1);
    let drawn = 0;
    for (const task of this.tasks) {
      const worker = lanesOf.get(task.worker);
      if (worker === undefined) continue;
      let lane = worker.ends.findIndex((end) => end <= task.start + 0.5);
      if (lane < 0) lane = worker.ends.indexOf(Math.min(...worker.ends));
      worker.ends[lane] = task.stop;
      if (task.stop < from) continue;
      const left = x(task.start);
      const top = (worker.first + lane) * laneHeight + 2;
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
  }
}
