// ProgressTracker, PaceMeter and ProgressDisplay without a cluster: key states settled by hand, streams that record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoomError } from '@loom/protocol';
import { KeyState } from '../src/key-store.js';
import { ProgressDisplay } from '../src/progress/progress-display.js';
import { PaceMeter, formatSeconds, plainLine } from '../src/progress/progress-format.js';
import { ProgressTracker, type ProgressSnapshot, type TrackedNode } from '../src/progress/progress-tracker.js';
import { recordingStream } from './recording-stream.js';

const node = (key: string, ...dependencies: string[]): TrackedNode => ({ key, dependencies: dependencies.map((d) => ({ key: d })) });
const byPrefix = (snapshot: ProgressSnapshot) => Object.fromEntries(snapshot.prefixes.map(({ prefix, ...rest }) => [prefix, rest]));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A diamond read-a/read-b -> add -> sum, wanted: sum-1. */
function diamond(tracker: ProgressTracker): KeyState {
  const output = new KeyState('sum-1');
  tracker.addGraph([node('read-a', 'load-0'), node('read-b', 'load-0'), node('load-0'), node('add-1', 'read-a', 'read-b'), node('sum-1', 'add-1')], [output]);
  return output;
}

test('a finished output counts every task it needed as done, each once', () => {
  const tracker = new ProgressTracker();
  const output = diamond(tracker);
  assert.deepEqual(byPrefix(tracker.snapshot()), {
    read: { total: 2, done: 0, erred: 0, cancelled: 0, pending: 2 },
    load: { total: 1, done: 0, erred: 0, cancelled: 0, pending: 1 },
    add: { total: 1, done: 0, erred: 0, cancelled: 0, pending: 1 },
    sum: { total: 1, done: 0, erred: 0, cancelled: 0, pending: 1 },
  });
  assert.equal(tracker.settled, false);
  output.settle('finished');
  const snapshot = tracker.snapshot();
  assert.deepEqual([snapshot.total, snapshot.done, snapshot.pending], [5, 5, 0]);
  assert.equal(snapshot.settled, true);
});

test('an erred output counts the failing task under its own prefix; what never ran is cancelled', () => {
  const tracker = new ProgressTracker();
  const output = diamond(tracker);
  output.settle('error', new LoomError('TASK_FAILED', 'boom', { taskKey: 'read-b' }));
  assert.deepEqual(byPrefix(tracker.snapshot()), {
    read: { total: 2, done: 0, erred: 1, cancelled: 1, pending: 0 },
    load: { total: 1, done: 0, erred: 0, cancelled: 1, pending: 0 },
    add: { total: 1, done: 0, erred: 0, cancelled: 1, pending: 0 },
    sum: { total: 1, done: 0, erred: 1, cancelled: 0, pending: 0 },
  });
});

test('outputs already settled count at once; a key in two graphs counts once while pending', () => {
  const tracker = new ProgressTracker();
  const held = new KeyState('x-1');
  held.settle('finished');
  const fresh = new KeyState('y-1');
  tracker.addGraph([node('y-1', 'x-1')], [held, fresh]);
  tracker.addGraph([node('y-1', 'x-1')], [fresh]);
  assert.deepEqual(byPrefix(tracker.snapshot()), {
    y: { total: 1, done: 0, erred: 0, cancelled: 0, pending: 1 },
    x: { total: 1, done: 1, erred: 0, cancelled: 0, pending: 0 },
  });
  fresh.settle('finished');
  assert.equal(tracker.snapshot().done, 2);
  assert.equal(tracker.settled, true);
});

test('listeners get one snapshot per batch of changes, with monotone counts, and none once removed', async () => {
  const tracker = new ProgressTracker();
  const seen: ProgressSnapshot[] = [];
  const stop = tracker.subscribe((snapshot) => seen.push(snapshot));
  const states = Array.from({ length: 10 }, (_, i) => new KeyState(`inc-${i}`));
  tracker.addKeys(states);
  for (const state of states.slice(0, 4)) state.settle('finished');
  await nextTurn();
  assert.equal(seen.length, 1, 'adding and four settles in one turn make one snapshot');
  assert.deepEqual([seen[0]?.total, seen[0]?.done], [10, 4]);
  for (const state of states.slice(4, 9)) state.settle('finished');
  await nextTurn();
  stop();
  states[9]?.settle('error', new LoomError('TASK_FAILED', 'last', { taskKey: 'inc-9' }));
  await nextTurn();
  assert.deepEqual(seen.map((s) => s.done), [4, 9]);
  assert.equal(tracker.snapshot().erred, 1);
});

test('outside counts (trainMany slices) grow, and a stale report is ignored', () => {
  const tracker = new ProgressTracker();
  tracker.setExternal('slices', { done: 40, failed: 2, total: 100 });
  tracker.setExternal('slices', { done: 30, failed: 1, total: 100 });
  assert.deepEqual(byPrefix(tracker.snapshot()).slices, { total: 100, done: 38, erred: 2, cancelled: 0, pending: 60 });
});

test('the pace follows the rate and is the whole run average once complete', () => {
  const meter = new PaceMeter(0);
  const at = (done: number, total = 100) => ({ prefixes: [{ prefix: 'p', total, done, erred: 0, cancelled: 0, pending: total - done }], total, done, erred: 0, cancelled: 0, pending: total - done, settled: false });
  assert.equal(meter.measure(at(0), 500).get('p')?.rate, undefined);
  const first = meter.measure(at(10), 1_000).get('p');
  assert.equal(first?.rate, 10);
  assert.equal(first?.etaSeconds, 9);
  const done = meter.measure(at(100), 4_000).get('p');
  assert.equal(done?.rate, 25);
  assert.equal(done?.etaSeconds, 0);
  assert.equal(formatSeconds(0.5), '0.50 s');
  assert.equal(formatSeconds(185), '3 min 05 s');
});

test('plain output: lines only when something moved, a final line, no escape codes, no timer after finish', async () => {
  const tracker = new ProgressTracker();
  const stream = recordingStream(false);
  const states = Array.from({ length: 3 }, (_, i) => new KeyState(`inc-${i}`));
  const display = new ProgressDisplay(tracker, { stream, intervalMs: 5 }).start();
  const drawn = stream.nextWrite();
  tracker.addKeys(states);
  await drawn;
  const quiet = stream.writes;
  // Eight intervals with nothing moving: the assertion is about time passing without a line.
  await sleep(40);
  assert.equal(stream.writes, quiet, 'no repeated line while nothing moves');
  for (const state of states) state.settle('finished');
  display.finish();
  const written = stream.writes;
  // A change after finish would be drawn by a timer left running.
  tracker.addKeys([new KeyState('late-0')]);
  // Eight intervals: a timer left running would have drawn the change by now.
  await sleep(40);
  assert.equal(stream.writes, written, 'nothing is written after finish');
  assert.doesNotMatch(stream.text, /\x1b/);
  const lines = stream.text.trimEnd().split('\n');
  assert.match(lines.at(-1) ?? '', /^progress finished in .*: inc 3\/3 /);
  assert.equal(plainLine('progress', tracker.snapshot(), new Map(), 1, true), 'progress finished in 1.0 s: inc 3/3; late 0/1  -/s  ETA -');
});

test('terminal output redraws the block in place and leaves the final frame', async () => {
  const tracker = new ProgressTracker();
  const stream = recordingStream(true, { columns: 120, rows: 40 });
  const states = Array.from({ length: 4 }, (_, i) => new KeyState(`inc-${i}`));
  const display = new ProgressDisplay(tracker, { stream, intervalMs: 5 }).start();
  tracker.addKeys(states);
  tracker.addKeys([new KeyState('sum-0')]);
  for (const state of states) {
    const drawn = stream.nextWrite();
    state.settle('finished');
    await drawn;
  }
  display.finish();
  // Erase-line (ESC [ 2 K) and cursor-up (ESC [ n A) are log-update rewriting rows it drew before.
  assert.match(stream.text, /\x1b\[2K/);
  assert.match(stream.text, /\x1b\[\d*A/);
  assert.match(stream.text, /progress finished in [^\n]*\n {2}inc +█{24} 4\/4 /);
});
