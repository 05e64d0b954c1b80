// A 1,000-task graph for killing workers into: 500 slow-ish leaves, 250 pairwise sums, 249 sums of neighbouring
// pairs and a total that also reads the first and last pair, so every task reads two inputs or more and the
// client's chain fusion leaves all 1,000 as separate tasks. (test/src/worker-loss.test.ts has the same graph
// with 4 ms leaves; it could import this one.)
import { delayed, type Delayed } from '@loom/client';

export function thousandTaskGraph(salt: number, leafMs = 10): { graph: Delayed<number>; expected: number } {
  const leaf = delayed(async (i: number, s: number, ms: number) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return i * 3 + s;
  });
  const add = delayed((a: number, b: number) => a + b);
  const sum = delayed((values: number[], first: number, last: number) => values.reduce((a, b) => a + b, 0) + first + last);
  const leaves = Array.from({ length: 500 }, (_, i) => leaf(i, salt, leafMs));
  const pairs: Delayed<number>[] = [];
  for (let i = 0; i < leaves.length; i += 2) pairs.push(add(leaves[i]!, leaves[i + 1]!));
  const middle: Delayed<number>[] = [];
  for (let i = 0; i + 1 < pairs.length; i++) middle.push(add(pairs[i]!, pairs[i + 1]!));
  // Each middle sum adds two neighbouring pairs, so the first and last pair count once there and every other
  // pair twice; the total adds the first and last once more.
  const pairValue = (p: number): number => 2 * p * 3 + salt + (2 * p + 1) * 3 + salt;
  let expected = 0;
  for (let p = 0; p < 250; p++) expected += pairValue(p) * 2;
  return { graph: sum(middle, pairs[0]!, pairs[249]!), expected };
}
