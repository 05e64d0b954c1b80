// The three-way split train() reads: every row on exactly one side, sides close to their fractions, and adding a
// validation side takes rows only from the training side (the test side does not move).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitBucket, type SplitSpec } from '../src/index.js';

test('train, validation and test sides partition the rows; validation comes out of the training side', () => {
  const encoder = new TextEncoder();
  const sides = { train: 0, validation: 0, test: 0 };
  for (let i = 0; i < 20_000; i++) {
    const text = encoder.encode(`message ${i}`);
    const on = (keep: SplitSpec['keep']) => splitBucket(text, { testFraction: 0.2, validationFraction: 0.1, seed: 7, keep });
    const found = (['train', 'validation', 'test'] as const).filter(on);
    assert.equal(found.length, 1, `row ${i} is on exactly one side: ${found.join(', ')}`);
    sides[found[0]!]++;
    assert.equal(on('test'), splitBucket(text, { testFraction: 0.2, seed: 7, keep: 'test' }), 'the test side ignores validationFraction');
  }
  // 20 % test, then 10 % of the other 80 %: 8 % validation, 72 % train.
  assert.ok(Math.abs(sides.test - 4_000) < 250, `${sides.test} test rows`);
  assert.ok(Math.abs(sides.validation - 1_600) < 200, `${sides.validation} validation rows`);
  assert.ok(Math.abs(sides.train - 14_400) < 300, `${sides.train} training rows`);
});
