// train()'s judgement of a run, without a cluster: when early stopping stops and which epoch it keeps, when the
// default rate is cut, and when held-out accuracy is called near chance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EarlyStopping } from '../src/train/early-stopping.js';
import { majorityBaseline, nearChanceWarning } from '../src/train/near-chance.js';

/** Feeds one loss per epoch of `stepsPerEpoch` steps; returns the epoch it stopped after (or -1) and the rate scales seen. */
function run(stopping: EarlyStopping, losses: readonly number[], stepsPerEpoch: number): { stoppedAfter: number; scales: number[] } {
  const scales: number[] = [];
  for (const [epoch, loss] of losses.entries()) {
    const verdict = stopping.observe(epoch, (epoch + 1) * stepsPerEpoch, loss);
    scales.push(stopping.rateScale);
    if (verdict.stop) return { stoppedAfter: epoch, scales };
  }
  return { stoppedAfter: -1, scales };
}

test('stops once the best epoch is `patience` epochs and `minSteps` steps behind, keeping the best', () => {
  const losses = [0.7, 0.5, 0.4, 0.45, 0.41, 0.42, 0.43, 0.44, 0.46];
  // 100 steps an epoch: three stale epochs are 300 steps.
  const big = new EarlyStopping({ patience: 3, minSteps: 300, minDelta: 0 });
  assert.equal(run(big, losses, 100).stoppedAfter, 5);
  assert.equal(big.bestEpoch, 2);
  assert.equal(big.bestLoss, 0.4);
  // 30 steps an epoch: three stale epochs are too few steps to judge a run by; it waits for ten.
  const small = new EarlyStopping({ patience: 3, minSteps: 300, minDelta: 0 });
  assert.equal(run(small, losses, 30).stoppedAfter, -1);
  assert.equal(run(new EarlyStopping({ patience: 3, minSteps: 300, minDelta: 0 }), [...losses, ...Array(10).fill(0.5)], 30).stoppedAfter, 12);
});

test('a gain smaller than minDelta is not progress, and NaN never is', () => {
  const stopping = new EarlyStopping({ patience: 2, minSteps: 0, minDelta: 1e-3 });
  assert.equal(stopping.observe(0, 10, 0.1).best, true);
  assert.equal(stopping.observe(1, 20, 0.0995).best, false);
  assert.deepEqual(stopping.observe(2, 30, Number.NaN), { best: false, stop: true });
  assert.equal(stopping.bestEpoch, 0);
});

test('the default rate halves after each plateau of the given epochs and steps, and only with a plateau rule', () => {
  const losses = [0.7, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6];
  const plateau = run(new EarlyStopping({ patience: 100, minSteps: 0, minDelta: 0, plateau: { epochs: 2, steps: 150 } }), losses, 100);
  assert.deepEqual(plateau.scales, [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]);
  const given = run(new EarlyStopping({ patience: 100, minSteps: 0, minDelta: 0 }), losses, 100);
  assert.deepEqual(given.scales, losses.map(() => 1));
});

test('near chance: less than a tenth of the majority baseline errors removed', () => {
  assert.equal(majorityBaseline([30, 70]), 0.7);
  assert.equal(majorityBaseline([]), 0);
  // Balanced: the line is at 55 %.
  assert.match(nearChanceWarning(0.54, [500, 500], 'test') ?? '', /^test accuracy 54\.0 % is near chance: always answering the most common class scores 50\.0 %/);
  assert.equal(nearChanceWarning(0.56, [500, 500], 'test'), undefined);
  // 90 % one class: 91 % is needed.
  assert.match(nearChanceWarning(0.905, [900, 100], 'validation') ?? '', /^validation accuracy 90\.5 %/);
  assert.equal(nearChanceWarning(0.92, [900, 100], 'validation'), undefined);
  // Worse than the baseline is near chance too.
  assert.ok(nearChanceWarning(0.3, [700, 300], 'test') !== undefined);
  // A run early stopping cut short is told how to train longer.
  assert.match(nearChanceWarning(0.5, [500, 500], 'test', { epochs: 5, steps: 450 }) ?? '',
    /Early stopping ended the run after 5 epochs \(450 steps\); a larger `patience` trains longer\.$/);
  assert.doesNotMatch(nearChanceWarning(0.5, [500, 500], 'test') ?? '', /Early stopping/);
});
