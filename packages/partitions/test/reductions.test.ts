// Column reductions, kernel by kernel: exact integer sums and means, stable variance, null and NaN semantics,
// exact min/max, distinct counts in pandas' order, and the errors a user meets (unknown column, wrong type,
// partitions that disagree on a column's type).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bool, Dictionary, Float64, Int8, Int32, Int64, Null, Table, TimestampMillisecond, TimestampNanosecond, Uint32, Uint64, Utf8,
  makeData, makeVector, vectorFromArray, type DataType,
} from 'apache-arrow';
import { encodeValue } from '@loom/protocol';
import { checkReduction, combinePartials, PartitionError, reducePartition, type ReductionSpec } from '../src/index.js';
import { reduceInTree } from './reduction-tree.js';

function table(type: DataType, values: readonly unknown[]): Table {
  return new Table({ x: vectorFromArray(values as unknown[], type) });
}

/** `values` cut into tables of at most `size` rows (slices of one table, so chunks start at an offset). */
function pieces(type: DataType, values: readonly unknown[], size: number): Table[] {
  const whole = table(type, values);
  const out: Table[] = [];
  for (let start = 0; start < values.length; start += size) out.push(whole.slice(start, start + size));
  return out;
}

const sum = (tables: Table[]) => reduceInTree({ op: 'sum', column: 'x' }, tables);
const mean = (tables: Table[]) => reduceInTree({ op: 'mean', column: 'x' }, tables);
const variance = (tables: Table[], ddof = 1) => reduceInTree({ op: 'var', column: 'x', ddof }, tables);
const extreme = (op: 'min' | 'max', tables: Table[]) => reduceInTree({ op, column: 'x' }, tables);

function isPartitionError(code: string, message: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof PartitionError && error.code === code && message.test(error.message);
}

test('integer sums are exact bigints: int64 past 2^63, uint64, and 32-bit sums past 2^53', () => {
  const max = 2n ** 63n - 1n;
  assert.equal(sum(pieces(new Int64(), [max, max, null, -(2n ** 63n), 5n, max], 2)), 3n * max - 2n ** 63n + 5n);
  assert.equal(sum(pieces(new Uint64(), [2n ** 64n - 1n, 2n ** 64n - 1n, 1n], 1)), 2n ** 65n - 1n);
  assert.equal(sum([table(new Int8(), [-128, -128, 127])]), -129n);
  // 2.2 million copies of 2^32 - 1 pass 2^53 (float64 would round) and cross the kernel's flush to bigint.
  const n = 2_200_000;
  const big = new Table({ x: makeVector(new Uint32Array(n).fill(0xffffffff)) });
  assert.equal(sum([big.slice(0, 1_000_000), big.slice(1_000_000)]), BigInt(n) * 0xffffffffn);
  assert.equal(sum([table(new Bool(), [true, null, false, true])]), 2n, 'bools sum as integers, as pandas does');
  assert.equal(sum([table(new Int32(), [])]), 0n, 'an integer column with no values sums to 0n');
});

test('means of integers divide the exact sum; float sums are compensated', () => {
  const base = 2n ** 62n;
  assert.equal(mean(pieces(new Int64(), [base + 1n, base + 3n, null], 1)), Number(base + 2n));
  assert.equal(mean([table(new Int32(), [-7, 0])]), -3.5);
  assert.equal(mean([table(new Bool(), [true, false, false, true])]), 0.5);
  // 1 + 1e100 - 1e100 in one partition: a plain running sum gives 0.
  assert.equal(sum(pieces(new Float64(), [1, 1e100, 1, -1e100], 4)), 2);
  assert.equal(sum(pieces(new Float64(), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 3)), 5.5);
});

test('variance is stable on badly conditioned data and keeps int64 differences', () => {
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const values = Array.from({ length: 5000 }, () => 1e9 + noise());
  const reference = twoPassVariance(values);
  const naive = (values.reduce((s, x) => s + x * x, 0) - values.reduce((s, x) => s + x, 0) ** 2 / values.length) / (values.length - 1);
  assert.ok(Math.abs(naive - reference) / reference > 1e-3, 'the data defeats the textbook one-pass formula');
  for (const size of [5000, 1000, 7, 1]) {
    const got = variance(pieces(new Float64(), values, size)) as number;
    assert.ok(Math.abs(got - reference) / reference < 1e-9, `partitions of ${size}: ${got} vs two-pass ${reference}`);
  }
  // Values near 2^62 one apart: as float64 they would all be equal.
  const base = 2n ** 62n;
  assert.equal(variance(pieces(new Int64(), [base, base + 1n, base + 2n, base + 3n], 3)), 5 / 3);
  assert.equal(reduceInTree({ op: 'std', column: 'x', ddof: 0 }, [table(new Int32(), [2, 4, 4, 4, 5, 5, 7, 9])]), 2);
  assert.equal(variance([table(new Float64(), [5])]), null, 'one value, ddof 1: no variance (pandas: NaN)');
  assert.equal(variance([table(new Float64(), [5])], 0), 0);
});

test('nulls and NaN are skipped; no values at all gives 0 for sum and null for the rest', () => {
  const floats = pieces(new Float64(), [NaN, 1.5, null, NaN, 2.5], 2);
  assert.equal(sum(floats), 4);
  assert.equal(mean(floats), 2);
  assert.equal(extreme('min', floats), 1.5);
  assert.equal(variance(floats), 0.5);
  const empty = [table(new Float64(), [null, NaN]), table(new Float64(), [])];
  assert.equal(sum(empty), 0);
  for (const op of ['mean', 'min', 'max'] as const) assert.equal(reduceInTree({ op, column: 'x' }, empty), null, op);
  assert.equal(variance(empty), null);
  assert.equal(reduceInTree({ op: 'nunique', column: 'x', dropna: true }, empty), 0);
  assert.equal(reduceInTree({ op: 'nunique', column: 'x', dropna: false }, empty), 1, 'null and NaN are one missing value');
  assert.equal(sum([table(new Float64(), [Infinity, 1])]), Infinity);
  assert.ok(Number.isNaN(sum([table(new Float64(), [Infinity, -Infinity])])));
  // A Null-typed column (no values at all) merges with any other partition.
  const nulls = new Table({ x: makeVector(makeData({ type: new Null(), length: 3, nullCount: 3 })) });
  assert.equal(sum([nulls]), 0);
  assert.equal(sum([nulls, table(new Int32(), [4])]), 4n);
  assert.equal(extreme('max', [nulls, table(new Utf8(), ['a'])]), 'a');
  assert.equal(reduceInTree({ op: 'var', column: 'x', ddof: 1 }, [], 3), null, 'no partitions');
});

test('min and max: int64 exactly, text by code point, dictionaries, booleans, timestamps as epoch ms', () => {
  const max = 2n ** 63n - 1n;
  assert.equal(extreme('max', pieces(new Int64(), [max - 1n, max, null], 1)), max);
  assert.equal(extreme('min', pieces(new Int64(), [max, -max, -max - 1n], 2)), -max - 1n);
  // U+FFFF sorts before U+10000 by code point (pandas, Python) but after it by UTF-16 code unit (JS <).
  const text = pieces(new Utf8(), ['\u{10000}', 'b', null, '\uffff'], 2);
  assert.equal(extreme('min', text), 'b');
  assert.equal(extreme('max', text), '\u{10000}');
  const dictionary = pieces(new Dictionary(new Utf8(), new Int32()), ['pear', 'apple', null, 'zucchini', 'fig'], 2);
  assert.equal(extreme('min', dictionary), 'apple');
  assert.equal(extreme('max', [...dictionary, table(new Utf8(), ['kiwi'])]), 'zucchini', 'dictionary and plain text merge');
  assert.equal(extreme('min', [table(new Bool(), [true, null, false])]), false);
  const times = [new Date('2024-03-01T00:00:00Z'), new Date('2023-01-01T00:00:00Z'), null];
  assert.equal(extreme('min', pieces(new TimestampMillisecond(), times, 1)), Date.parse('2023-01-01T00:00:00Z'));
  // Nanosecond timestamps one nanosecond apart are compared by their stored integers.
  const nanos = new Table({ x: makeVector(makeData({ type: new TimestampNanosecond(), length: 2, data: new BigInt64Array([1_000_001n, 1_000_000n]) })) });
  const [later, earlier] = [nanos.slice(0, 1), nanos.slice(1)];
  assert.equal(extreme('min', [later, earlier]), earlier.getChild('x')?.get(0));
  assert.equal(extreme('max', [later, earlier]), later.getChild('x')?.get(0));
});

test('nunique and valueCounts: exact, by most frequent, ties in order of first appearance, nulls only on request', () => {
  // pandas: pd.Series(['b', 'a', 'b', None, 'c', 'a']).value_counts() -> b 2, a 2, c 1; dropna=False -> b, a, None, c.
  const values = ['b', 'a', 'b', null, 'c', 'a'];
  for (const type of [new Utf8(), new Dictionary(new Utf8(), new Int32())]) {
    for (const size of [6, 4, 1]) {
      const tables = pieces(type, values, size);
      assert.equal(reduceInTree({ op: 'nunique', column: 'x', dropna: true }, tables), 3);
      assert.equal(reduceInTree({ op: 'nunique', column: 'x', dropna: false }, tables), 4);
      assert.deepEqual(counts(reduceInTree({ op: 'valueCounts', column: 'x', dropna: true }, tables, 2)), [['b', 2], ['a', 2], ['c', 1]]);
      assert.deepEqual(counts(reduceInTree({ op: 'valueCounts', column: 'x', dropna: false }, tables, 2)), [['b', 2], ['a', 2], [null, 1], ['c', 1]]);
    }
  }
  // Value types are kept: int64 values past 2^53 and timestamps come back exactly.
  const big = 2n ** 60n + 1n;
  const ints = reduceInTree({ op: 'valueCounts', column: 'x', dropna: true }, pieces(new Int64(), [big, big - 1n, big, null], 1));
  assert.equal(String(ints.schema.fields[0]?.type), 'Int64');
  assert.deepEqual(counts(ints), [[big, 2], [big - 1n, 1]]);
  const nanos = new Table({ x: makeVector(makeData({ type: new TimestampNanosecond(), length: 3, data: new BigInt64Array([7n, 8n, 7n]) })) });
  const times = reduceInTree({ op: 'valueCounts', column: 'x', dropna: true }, [nanos.slice(0, 2), nanos.slice(2)]);
  assert.deepEqual([...(times.getChild('value')?.data[0]?.values as BigInt64Array)], [7n, 8n]);
  assert.deepEqual(counts(reduceInTree({ op: 'valueCounts', column: 'x', dropna: false }, [table(new Float64(), [NaN, 1, null, 1])])), [[null, 2], [1, 2]]);
  assert.deepEqual(counts(reduceInTree({ op: 'valueCounts', column: 'x', dropna: true }, [])), []);
});

test('errors name the column and the columns there are, the type refused, and partitions that disagree', () => {
  const people = new Table({ id: vectorFromArray([1, 2], new Int32()), name: vectorFromArray(['a', 'b'], new Utf8()) });
  assert.throws(() => reducePartition(people, { op: 'sum', column: 'age' }), isPartitionError('UNKNOWN_COLUMN', /sum: unknown column "age"; the table has: "id", "name"/));
  assert.throws(() => reducePartition(people, { op: 'sum', column: 'name' }), isPartitionError('UNSUPPORTED_TYPE', /sum needs a column of type int, float or bool; column "name" is Utf8/));
  assert.throws(() => reducePartition(people, { op: 'var', column: 'name', ddof: 1 }), isPartitionError('UNSUPPORTED_TYPE', /var needs/));
  const times = table(new TimestampMillisecond(), [new Date(0)]);
  assert.throws(() => reducePartition(times, { op: 'mean', column: 'x' }), isPartitionError('UNSUPPORTED_TYPE', /Timestamp<MILLISECOND>/));
  assert.throws(() => reducePartition(7 as unknown as Table, { op: 'min', column: 'x' }), isPartitionError('BAD_VALUE', /min\('x'\) needs partitions that are Arrow Tables, got number/));
  assert.throws(() => checkReduction(people.schema, { op: 'max', column: 'nope' }), isPartitionError('UNKNOWN_COLUMN', /"id", "name"/));
  checkReduction(people.schema, { op: 'max', column: 'name' });
  const mixed = [table(new Int32(), [1]), table(new Float64(), [2])];
  const specs: ReductionSpec[] = [{ op: 'sum', column: 'x' }, { op: 'var', column: 'x', ddof: 1 }, { op: 'min', column: 'x' }, { op: 'nunique', column: 'x', dropna: true }];
  for (const spec of specs) {
    assert.throws(() => reduceInTree(spec, mixed), isPartitionError('SCHEMA_MISMATCH', /column "x" is \S+ in some partitions and \S+ in others/), spec.op);
  }
  assert.throws(() => reduceInTree({ op: 'valueCounts', column: 'x', dropna: true }, mixed), isPartitionError('SCHEMA_MISMATCH', /Int32 in some partitions and Float64/));
});

test('merging leaves its inputs as they were: a worker may hand one partial to two tasks', () => {
  const tables = pieces(new Utf8(), ['a', 'b', null, 'a', 'c', 'd'], 2);
  const specs: ReductionSpec[] = [
    { op: 'sum', column: 'n' }, { op: 'var', column: 'n', ddof: 1 }, { op: 'max', column: 'x' },
    { op: 'nunique', column: 'x', dropna: false }, { op: 'valueCounts', column: 'x', dropna: true },
  ];
  const numbered = tables.map((part, i) => new Table({ x: part.getChild('x')!, n: vectorFromArray([i, i * 2].slice(0, part.numRows), new Int32()) }));
  for (const spec of specs) {
    const partials = numbered.map((part) => reducePartition(part, spec));
    const before = partials.map((partial) => Buffer.from(encodeValue(partial).bytes).toString('hex'));
    const once = encodeValue(combinePartials(partials, spec)).bytes;
    assert.deepEqual(partials.map((partial) => Buffer.from(encodeValue(partial).bytes).toString('hex')), before, spec.op);
    assert.deepEqual(encodeValue(combinePartials(partials, spec)).bytes, once, `${spec.op}: the same answer twice`);
  }
});

function counts(result: Table): Array<[unknown, number]> {
  assert.deepEqual(result.schema.fields.map((field) => `${field.name}:${String(field.type)}`).slice(1), ['count:Int64']);
  return result.toArray().map((row: { value: unknown; count: bigint }) => [row.value, Number(row.count)]);
}

/** Two passes over values in [1e9, 1e9 + 1]: x - 1e9 is exact there, so the mean carries no rounding from 1e9. */
function twoPassVariance(values: readonly number[]): number {
  const mean = 1e9 + values.reduce((s, x) => s + (x - 1e9), 0) / values.length;
  return values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1);
}
