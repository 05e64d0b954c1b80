// A binary heap of tasks in run order with lazy deletion: a task that left the queue stays in the array until
// it reaches the top, where its stale stamp gives it away. Removal is O(1), pop amortised O(log n).
import { runsBefore, type TaskState } from './task-state.js';

interface Entry {
  task: TaskState;
  stamp: number;
}

export class TaskHeap {
  private readonly entries: Entry[] = [];

  get size(): number {
    return this.entries.length;
  }

  push(task: TaskState): void {
    task.queueStamp += 1;
    const entries = this.entries;
    entries.push({ task, stamp: task.queueStamp });
    let index = entries.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!runsBefore(entries[index]!.task, entries[parent]!.task)) break;
      [entries[index], entries[parent]] = [entries[parent]!, entries[index]!];
      index = parent;
    }
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
    top.task.queueStamp += 1; // no longer queued here
    return top.task;
  }

  /** Live tasks, in no particular order (for re-homing a dead worker's queue). */
  *drain(): Generator<TaskState> {
    const entries = this.entries.splice(0);
    for (const entry of entries) if (isLive(entry)) yield entry.task;
  }

  private dropStale(): void {
    while (this.entries.length > 0 && !isLive(this.entries[0]!)) this.removeTop();
  }

  private removeTop(): void {
    const entries = this.entries;
    const last = entries.pop()!;
    if (entries.length === 0) return;
    entries[0] = last;
    let index = 0;
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

function isLive(entry: Entry): boolean {
  return entry.task.state === 'queued' && entry.task.queueStamp === entry.stamp;
}
