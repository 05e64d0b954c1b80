// TextCells (the split's string cells, one string per distinct run) against Arrow's own Vector.get, over
// columns of several chunks with repeats, nulls, empty and non-ASCII cells, read in order and at random.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vectorFromArray, Utf8 } from 'apache-arrow';
import { seededRandom } from '@loom/testing';
import { TextCells } from '../src/split/text-cells.js';

test('TextCells reads every cell as Vector.get does, in order and at random, across chunks', () => {
  const random = seededRandom(41);
  const alphabet = ['db01.cpu', 'db01.mem', '', 'é-ü', '2024-01-01T00:00:00Z', 'x'.repeat(300)];
  for (let trial = 0; trial < 20; trial++) {
    const chunks = Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
      vectorFromArray(Array.from({ length: Math.floor(random() * 3000) }, () => (random() < 0.05 ? null : random() < 0.5 ? (alphabet[Math.floor(random() * alphabet.length)] as string) : `id-${Math.floor(random() * 2000)}`)), new Utf8()),
    );
    const vector = chunks.reduce((all, chunk) => all.concat(chunk));
    const cells = TextCells.of(vector) as TextCells;
    for (let i = 0; i < vector.length; i++) assert.equal(cells.get(i), vector.get(i), `trial ${trial}, cell ${i}`);
    for (let k = 0; k < 500 && vector.length > 0; k++) {
      const i = Math.floor(random() * vector.length);
      assert.equal(cells.get(i), vector.get(i), `trial ${trial}, cell ${i} at random`);
    }
  }
  assert.equal(TextCells.of(vectorFromArray([1, 2, 3])), undefined, 'not a text column');
});
