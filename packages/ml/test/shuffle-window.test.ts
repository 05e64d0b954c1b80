import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShuffleWindow, type WindowSource } from '../src/index.js';

/**
 * A source of `sizes.length` partitions that records how many are held at once, not counting those whose rows
 * have all been drawn and which the consumer has not released yet (it releases right after each draw here).
 */
function countingSource(sizes: readonly number[]): WindowSource<number> & { held: Set<number>; maxHeld: number; requested: number[] } {
  const source = {
    held: new Set<number>(),
    maxHeld: 0,
    /** Partitions asked for, in the order load() was called (before the simulated latency). */
    requested: [] as number[],
    async load(index: number) {
      source.requested.push(index);
      await new Promise((resolve) => setTimeout(resolve, 1 + (index % 3)));
      assert.ok(!source.held.has(index), `partition ${index} loaded twice in one epoch`);
      source.held.add(index);
      source.maxHeld = Math.max(source.maxHeld, source.held.size);
      return { handle: index, rows: sizes[index] as number };
    },
    release(handle: number) {
      assert.ok(source.held.delete(handle), `partition ${handle} released twice`);
    },
  };
  return source;
}

async function drainEpoch(sizes: readonly number[], maxPartitions: number, epoch: number, drawSize: number) {
  const source = countingSource(sizes);
  const window = new ShuffleWindow(sizes.length, source, { maxPartitions, seed: 3, epoch });
  const seen: string[] = [];
  for (;;) {
    const draw = await window.draw(drawSize);
    for (let i = 0; i < draw.rows; i++) seen.push(`${draw.tables[draw.picks[2 * i] as number]}:${draw.picks[2 * i + 1]}`);
    window.release();
    if (draw.rows < drawSize) break;
  }
  await window.close();
  return { seen, source, window };
}

test('an epoch yields every row exactly once and never holds more than maxPartitions partitions', async () => {
  const sizes = [50, 7, 0, 120, 33, 64, 64, 1, 90, 12, 45, 80];
  for (const [maxPartitions, drawSize] of [[2, 1], [4, 32], [5, 100], [6, 1000]] as const) {
    const { seen, source, window } = await drainEpoch(sizes, maxPartitions, 0, drawSize);
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total, 'no row twice');
    assert.ok(window.maxHeld <= maxPartitions, `held ${window.maxHeld} > ${maxPartitions}`);
    // Exhausted partitions wait for release() after the draw that finished them: with one-row draws that is at
    // most one group more.
    if (drawSize === 1) assert.ok(source.maxHeld <= maxPartitions + Math.floor(maxPartitions / 2), `source held ${source.maxHeld}`);
    assert.equal(source.held.size, 0, 'everything released at the end');
  }
});

test('rows are shuffled within and across partitions, differently each epoch, reproducibly per seed', async () => {
  const sizes = Array.from({ length: 8 }, () => 100);
  const first = (await drainEpoch(sizes, 4, 0, 64)).seen;
  const again = (await drainEpoch(sizes, 4, 0, 64)).seen;
  const second = (await drainEpoch(sizes, 4, 1, 64)).seen;
  assert.deepEqual(first, again, 'same seed and epoch, same order');
  assert.notDeepEqual(first, second, 'a new epoch, a new order');
  // Across partitions: the first 64 rows mix both partitions of the first group.
  const partitions = new Set(first.slice(0, 64).map((id) => id.split(':')[0]));
  assert.equal(partitions.size, 2);
  // Within a partition: rows do not come out in stored order.
  const rows = first.filter((id) => id.startsWith(first[0]!.split(':')[0] + ':')).map((id) => Number(id.split(':')[1]));
  assert.notDeepEqual(rows, [...rows].sort((a, b) => a - b));
});

test('the next group loads while the current one is drawn from (prefetch)', async () => {
  const source = countingSource([10, 10, 10, 10, 10, 10]);
  const window = new ShuffleWindow(6, source, { maxPartitions: 4, seed: 1, epoch: 0 });
  await window.draw(1);
  // The prefetch starts as soon as the first group is in: nothing to wait for.
  assert.equal(source.requested.length, 4, 'the first group and the prefetched second group, not the third');
  await window.close();
  assert.equal(source.held.size, 0);
});

test('maxPartitions below 2 is refused', () => {
  assert.throws(() => new ShuffleWindow(3, countingSource([1, 1, 1]), { maxPartitions: 1, seed: 0, epoch: 0 }), /at least 2/);
});
