// A binary heap of tasks in run order with lazy deletion: a task that leaves the queue stays in the array until
// it reaches the top (or the array is compacted), where its stale stamp gives it away. Removal is O(1), pop
// amortised O(log n). `size` counts live tasks only: callers compare queue lengths (work stealing picks the
// longest queue), and a count that included stale entries made an idle worker pick an empty queue.
import { runsBefore, type TaskState } from './task-state.js';

interface Entry {
  task: TaskState;
  stamp: number;
}

/** Compact once stale entries outnumber live ones by this much, so removed tasks cannot pile up unseen. */
const COMPACT_SLACK = 64;

export class TaskHeap {
  private entries: Entry[] = [];
  private live = 0;

  /** Tasks queued here (stale entries not counted). */
  get size(): number {
    return this.live;
  }

  /** Queues `task` here; it must not be in any queue. */
  push(task: TaskState): void {
    if (task.queuedIn !== undefined) throw new Error(`task ${task.key} is already queued`);
    task.queuedIn = this;
    task.queueStamp += 1;
    this.live += 1;
    this.entries.push({ task, stamp: task.queueStamp });
    this.siftUp(this.entries.length - 1);
  }

  /** Takes `task` out of this queue (no-op if it is not here). */
  remove(task: TaskState): void {
    if (task.queuedIn !== this) return;
    task.queuedIn = undefined;
    task.queueStamp += 1;
    this.live -= 1;
    if (this.entries.length > 2 * this.live + COMPACT_SLACK) this.compact();
  }

  /** The first live task, without removing it. */
  peek(): TaskState | undefined {
    this.dropStale();
    return this.entries[0]?.task;
  }

  pop(): TaskState | undefined {
    this.dropStale();
    const top = this.entries[0];
    if (top === undefined) return undefined;
    this.removeTop();
    this.remove(top.task);
    return top.task;
  }

  /** The live tasks, in no particular order, without removing them. */
  liveTasks(): TaskState[] {
    return this.entries.filter((entry) => this.isLive(entry)).map((entry) => entry.task);
  }

  /** Takes every live task out, in no particular order (for re-homing a leaving worker's queue). */
  drain(): TaskState[] {
    const tasks: TaskState[] = [];
    for (const entry of this.entries.splice(0)) {
      if (!this.isLive(entry)) continue;
      entry.task.queuedIn = undefined;
      entry.task.queueStamp += 1;
      tasks.push(entry.task);
    }
    this.live = 0;
    return tasks;
  }

  private isLive(entry: Entry): boolean {
    return entry.task.queuedIn === this && entry.task.queueStamp === entry.stamp;
  }

  private dropStale(): void {
    while (this.entries.length > 0 && !this.isLive(this.entries[0]!)) this.removeTop();
  }

  private compact(): void {
    this.entries = this.entries.filter((entry) => this.isLive(entry));
    for (let index = (this.entries.length >> 1) - 1; index >= 0; index--) this.siftDown(index);
  }

  private removeTop(): void {
    const entries = this.entries;
    const last = entries.pop()!;
    if (entries.length === 0) return;
    entries[0] = last;
    this.siftDown(0);
  }

  private siftUp(start: number): void {
    const entries = this.entries;
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!runsBefore(entries[index]!.task, entries[parent]!.task)) break;
      [entries[index], entries[parent]] = [entries[parent]!, entries[index]!];
      index = parent;
    }
  }

  private siftDown(start: number): void {
    const entries = this.entries;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let best = index;
      if (left < entries.length && runsBefore(entries[left]!.task, entries[best]!.task)) best = left;
      if (right < entries.length && runsBefore(entries[right]!.task, entries[best]!.task)) best = right;
      if (best === index) return;
      [entries[index], entries[best]] = [entries[best]!, entries[index]!];
      index = best;
    }
  }
}
