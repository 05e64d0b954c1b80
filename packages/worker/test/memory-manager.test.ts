// The memory policy's RSS reads: after task results RSS is re-read only when the last reading is stale, so a stream
// of short tasks does not pay a /proc read each, while the decision still sees memory within 10 ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@loom/protocol';
import { DEFAULT_THRESHOLDS, MemoryManager, type Spillable } from '../src/memory-manager.js';

const MiB = 1024 * 1024;

function manager(rss: () => number, now: () => number, onPauseChange: (paused: boolean) => void = () => {}): MemoryManager {
  const store: Spillable = { managedBytes: 0, inMemoryCount: 0, spillOldest: () => undefined, spillUntil: () => 0 };
  return new MemoryManager({ store, memoryLimit: 100 * MiB, thresholds: DEFAULT_THRESHOLDS, rss, onPauseChange, runningTasks: () => 1, logger: createLogger('memory-manager-test'), now });
}

test('results inside 10 ms of a reading reuse it; the first result after that reads RSS again', () => {
  let clock = 0;
  let reads = 0;
  const memory = manager(() => (reads++, 10 * MiB), () => clock);
  memory.checkAfterResults();
  memory.checkAfterResults();
  clock = 9.9;
  memory.checkAfterResults();
  assert.equal(reads, 1);
  clock = 10.1;
  memory.checkAfterResults();
  assert.equal(reads, 2);
  memory.check();
  assert.equal(reads, 3, 'the periodic check always reads RSS');
});

test('growth past the pause threshold is acted on at the first result after the reading goes stale', () => {
  let clock = 0;
  let rss = 10 * MiB;
  const changes: boolean[] = [];
  const memory = manager(() => rss, () => clock, (paused) => changes.push(paused));
  memory.checkAfterResults();
  rss = 90 * MiB;
  memory.checkAfterResults();
  assert.deepEqual(changes, []);
  clock = 11;
  memory.checkAfterResults();
  assert.deepEqual(changes, [true]);
  assert.equal(memory.paused, true);
});
