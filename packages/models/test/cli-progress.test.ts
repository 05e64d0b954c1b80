// The progress line of `loom models train` and the demo: its text, a line rewritten in place on a terminal, and
// plain lines (held back to one per interval, the last always written) into a file or a pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLine, ProgressReporter, type TrainProgress } from '../src/index.js';

const at = (done: number, failed: number, rate: number, etaSeconds: number): TrainProgress =>
  ({ done, trained: done - failed, failed, total: 10_000, rate, etaSeconds, batches: { done: 1, total: 10 } });

test('the progress line: done/total slices, failed, rate and ETA', () => {
  assert.equal(progressLine(at(6400, 12, 2950.4, 1.24)), '6,400/10,000 slices (12 failed), 2,950/s, ETA 1.2 s');
  assert.equal(progressLine(at(0, 0, 0, Infinity)), '0/10,000 slices (0 failed), -/s, ETA -');
  assert.equal(progressLine(at(500, 0, 10, 950)), '500/10,000 slices (0 failed), 10/s, ETA 15 min 50 s');
  assert.equal(progressLine(at(10_000, 3, 4000, 0)), '10,000/10,000 slices (3 failed), 4,000/s, done');
});

test('on a terminal the line is rewritten in place and ended by finish()', () => {
  const written: string[] = [];
  const reporter = new ProgressReporter({ isTTY: true, write: (text: string) => written.push(text) }, { label: 'fleet' });
  reporter.report(at(100, 0, 50, 198));
  reporter.report(at(10_000, 1, 500, 0));
  reporter.finish();
  assert.deepEqual(written, ['\rfleet: 100/10,000 slices (0 failed), 50/s, ETA 3 min 18 s\x1b[K', '\rfleet: 10,000/10,000 slices (1 failed), 500/s, done\x1b[K', '\n']);
});

test('into a pipe: plain lines, at most one per interval, and the held-back last one at finish()', () => {
  const written: string[] = [];
  const reporter = new ProgressReporter({ write: (text: string) => written.push(text) }, { plainEveryMs: 60_000 });
  reporter.report(at(100, 0, 50, 198));
  reporter.report(at(200, 0, 50, 196)); // within the interval: held back
  reporter.report(at(300, 1, 50, 194)); // replaces the held-back one
  reporter.finish();
  reporter.finish(); // nothing more
  assert.deepEqual(written, ['100/10,000 slices (0 failed), 50/s, ETA 3 min 18 s\n', '300/10,000 slices (1 failed), 50/s, ETA 3 min 14 s\n']);
});
