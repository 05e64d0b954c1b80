// How many ready tasks go to a thread in one batch. A thread gets up to its fair share of the queue, but only
// about BATCH_BUDGET_MS of expected work: tiny tasks travel by the hundred (one message instead of hundreds),
// while a slow task, or one whose function has not run yet, goes alone so it never holds queued tasks hostage on
// one thread while another sits idle. Durations are learned per function.

/** About this much expected work goes to a thread in one batch. */
const BATCH_BUDGET_MS = 5;

export class BatchSizer {
  /** Recent task duration per function id. */
  private readonly expectedMs = new Map<string, number>();

  learn(functionId: string, durationMs: number): void {
    const previous = this.expectedMs.get(functionId);
    this.expectedMs.set(functionId, previous === undefined ? durationMs : (previous + durationMs) / 2);
  }

  /** How many tasks from the head of `ready` the next thread takes, `freeThreads` threads sharing them (at least 1). */
  nextBatch(ready: readonly { task: { functionId: string } }[], freeThreads: number): number {
    const share = Math.ceil(ready.length / freeThreads);
    let count = 0;
    let expected = 0;
    while (count < share && count < ready.length) {
      const estimate = this.expectedMs.get((ready[count] as { task: { functionId: string } }).task.functionId) ?? BATCH_BUDGET_MS;
      if (count > 0 && expected + estimate > BATCH_BUDGET_MS) break;
      expected += estimate;
      count += 1;
    }
    return count;
  }
}
