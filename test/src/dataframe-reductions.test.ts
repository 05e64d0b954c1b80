// DataFrame values and reductions on a real 2-worker cluster: mapPartitions returning values, each column
// reduction over local and CSV data against answers computed here, deep reduction trees, and the errors a user
// meets (mixed partitions, unknown columns, wrong types).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compute, dataframe as dd, isLoomError } from '@loom/client';
import { useCluster } from './cluster-fixture.js';

const fixture = useCluster();
const { arrow } = dd;

const ROWS = 500;
const BIG = 2n ** 62n;
const id = Array.from({ length: ROWS }, (_, i) => i);
const big = id.map((i) => (i % 7 === 0 ? null : BIG + BigInt(i)));
const score = id.map((i) => (i % 5 === 0 ? null : i % 11 === 0 ? NaN : 1e9 + (i % 13) / 8));
const label = id.map((i) => (i % 9 === 0 ? null : ['spam', 'ham', 'eggs'][i % 3 === 0 ? 0 : i % 4 === 0 ? 1 : 2]!));
const flag = id.map((i) => i % 3 === 0);
const when = id.map((i) => new Date(Date.UTC(2024, 0, 1 + (i % 40))));

const table = new arrow.Table({
  id: arrow.vectorFromArray(id, new arrow.Int32()),
  big: arrow.vectorFromArray(big, new arrow.Int64()),
  score: arrow.vectorFromArray(score, new arrow.Float64()),
  label: arrow.vectorFromArray(label, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
  flag: arrow.vectorFromArray(flag, new arrow.Bool()),
  when: arrow.vectorFromArray(when, new arrow.TimestampMillisecond()),
});

let dir: string;
let csvPattern: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'loom-df-reduce-'));
  for (let file = 0; file < 3; file++) {
    let text = 'n,word\n';
    for (let row = 0; row < 200; row++) text += `${file * 200 + row},${row % 4 === 0 ? '' : `w${row % 6}`}\n`;
    writeFileSync(join(dir, `part-${file}.csv`), text);
  }
  csvPattern = join(dir, '*.csv');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const present = <T>(values: readonly (T | null)[]) => values.filter((value): value is T => value !== null && !(typeof value === 'number' && Number.isNaN(value)));

test('mapPartitions returning values computes to them in partition order', async () => {
  const df = dd.fromArrow(table, { npartitions: 6 });
  const pieces = await df.mapPartitions((part) => [part.getChild('id')?.get(0) as number, part.numRows] as const).compute(fixture.client);
  assert.equal(pieces.length, 6);
  // In partition order, each partition starts where the one before it ended.
  pieces.reduce((next, [first, rows]) => {
    assert.equal(first, next);
    return next + rows;
  }, 0);
  const summaries = await df.mapPartitions((part, column: string) => ({ rows: part.numRows, column }), { args: ['id'] }).compute(fixture.client);
  assert.equal(summaries.reduce((sum, summary) => sum + summary.rows, 0), ROWS);
  assert.ok(summaries.every((summary) => summary.column === 'id'));
  const kept = await df.mapPartitions((part) => BigInt(part.numRows)).persist(fixture.client);
  assert.equal((await kept.compute(fixture.client)).reduce((sum, rows) => sum + rows, 0n), BigInt(ROWS));
  kept.release();
});

test('partitions that are tables in some places and values in others are an error naming the first that differs', async () => {
  const df = dd.fromArrow(table, { npartitions: 4 });
  const mixed = df.mapPartitions((part) => (part.getChild('id')?.get(0) === 0 ? part : part.numRows));
  await assert.rejects(mixed.compute(fixture.client), (error: unknown) =>
    isLoomError(error) && /partition 1 is a value \(number\) but partition 0 is an Arrow Table/.test(error.message));
});

test('each reduction over local data matches the answer computed here', async () => {
  const df = dd.fromArrow(table, { npartitions: 7 });
  const bigs = present(big);
  const scores = present(score);
  const scoreMean = scores.reduce((s, x) => s + (x - 1e9), 0) / scores.length + 1e9;
  const scoreVar = scores.reduce((s, x) => s + (x - scoreMean) ** 2, 0) / (scores.length - 1);
  const [sumBig, sumId, sumFlag, meanBig, minBig, maxBig, meanScore, varScore, stdScore] = await compute(
    df.sum('big'), df.sum('id'), df.sum('flag'), df.mean('big'), df.min('big'), df.max('big'), df.mean('score'), df.var('score'), df.std('score', { ddof: 0 }),
  );
  assert.equal(sumBig, bigs.reduce((s, x) => s + x, 0n), 'int64 sums are exact');
  assert.equal(sumId, BigInt((ROWS * (ROWS - 1)) / 2));
  assert.equal(sumFlag, BigInt(flag.filter(Boolean).length));
  assert.equal(meanBig, Number(bigs.reduce((s, x) => s + x, 0n) / BigInt(bigs.length)));
  assert.equal(minBig, BIG + 1n);
  assert.equal(maxBig, BIG + 499n);
  assert.ok(Math.abs((meanScore as number) - scoreMean) < 1e-6);
  assert.ok(Math.abs((varScore as number) - scoreVar) / scoreVar < 1e-9, `var ${varScore} vs ${scoreVar}`);
  assert.ok(Math.abs((stdScore as number) - Math.sqrt((scoreVar * (scores.length - 1)) / scores.length)) < 1e-9);
  assert.equal(await df.min('when').compute(fixture.client), Date.UTC(2024, 0, 1));
  assert.equal(await df.max('label').compute(fixture.client), 'spam');
  assert.equal(await df.nunique('label').compute(fixture.client), 3);
  assert.equal(await df.nunique('label', { dropna: false }).compute(fixture.client), 4);
  const counts = await df.valueCounts('label').compute(fixture.client);
  const expected = new Map<string, number>();
  for (const value of present(label)) expected.set(value, (expected.get(value) ?? 0) + 1);
  assert.deepEqual(
    counts.toArray().map((row: { value: string; count: bigint }) => [row.value, Number(row.count)]),
    [...expected].sort((a, b) => b[1] - a[1]),
  );
});

test('a reduction over many partitions runs as a deep tree and gives the same answer', async () => {
  const df = dd.fromArrow(table, { npartitions: 40 });
  // Two trees of different shapes over the same partials, in one graph: the shared partial tasks run once and
  // feed both, so no merge may change its inputs.
  const [sum, nunique, nuniqueWider, counts] = await compute(
    df.sum('big', { splitEvery: 2 }), df.nunique('when', { splitEvery: 3 }), df.nunique('when', { splitEvery: 5 }), df.count({ splitEvery: 2 }),
  );
  assert.equal(sum, present(big).reduce((s, x) => s + x, 0n));
  assert.deepEqual([nunique, nuniqueWider], [40, 40]);
  assert.equal(counts, ROWS);
});

test('reductions over CSV partitions; an unknown column or a text sum fails at compute with a clear message', async () => {
  const df = dd.readCsv(csvPattern, { blocksize: '1KiB' });
  assert.ok(df.npartitions > 3);
  assert.equal(await df.sum('n').compute(fixture.client), BigInt((600 * 599) / 2));
  assert.equal(await df.max('word').compute(fixture.client), 'w5');
  assert.equal(await df.nunique('word').compute(fixture.client), 6, 'w0 to w5; empty fields are null');
  await assert.rejects(df.sum('nope').compute(fixture.client), (error: unknown) =>
    isLoomError(error) && /sum: unknown column "nope"; the table has: "n", "word"/.test(error.message));
  await assert.rejects(df.sum('word').compute(fixture.client), (error: unknown) =>
    isLoomError(error) && /sum needs a column of type int, float or bool; column "word" is Utf8/.test(error.message));
});
