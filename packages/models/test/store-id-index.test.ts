// The id index answers like a Map<string, number> over the same ids (checked against one on seeded random
// ids, across several columns, with multi-byte ids), and finds a repeated id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeData, Utf8 } from 'apache-arrow';
import { IdIndex } from '../src/store/id-index.js';
import { Utf8Column } from '../src/store/record-view.js';
import { TestRng } from './families-series.js';

function column(ids: string[]): Utf8Column {
  const bytes = ids.map((id) => Buffer.from(id, 'utf8'));
  const offsets = new Int32Array(ids.length + 1);
  bytes.forEach((b, i) => (offsets[i + 1] = (offsets[i] as number) + b.length));
  return new Utf8Column(makeData({ type: new Utf8(), length: ids.length, nullCount: 0, valueOffsets: offsets, data: Buffer.concat(bytes) }));
}


test('lookups agree with a Map over seeded random ids in several columns', () => {
  const seed = Number(process.env['LOOM_TEST_SEED'] ?? 7);
  const rng = new TestRng(seed);
  const random = (): number => rng.uniform();
  const alphabet = ['a', 'b', 'z', '0', '9', '-', '/', 'é', '東', '🙂'];
  const unique = new Set<string>();
  while (unique.size < 20_000) unique.add(Array.from({ length: 1 + Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
  const ids = [...unique];
  const columns = [column(ids.slice(0, 7_000)), column(ids.slice(7_000, 7_001)), column(ids.slice(7_001))];
  const index = new IdIndex(columns, [7_000, 1, 12_999]);
  assert.equal(index.duplicate, undefined, `seed ${seed}`);
  ids.forEach((id, row) => assert.equal(index.get(id), row, `seed ${seed}: ${id}`));
  for (let k = 0; k < 2_000; k++) {
    const probe = `${ids[k]}x`;
    assert.equal(index.get(probe), unique.has(probe) ? ids.indexOf(probe) : undefined, `seed ${seed}: ${probe}`);
  }
  assert.equal(index.get(''), undefined);
});

test('a repeated id is reported', () => {
  const index = new IdIndex([column(['a', 'b']), column(['c', 'b'])], [2, 2]);
  assert.equal(index.duplicate, 'b');
});
