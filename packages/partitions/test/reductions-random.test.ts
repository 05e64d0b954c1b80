// Seeded differential test of every column reduction: random columns (int8/int32/int64 near ±2^63/uint64,
// float32/float64 with NaN, text with astral characters, dictionary text, bools, timestamps) with random nulls,
// cut into random partitions (empty ones, slices at offsets, partitions of several batches), reduced through a
// random tree with every partial sent through the value codec, and compared with a straightforward one-pass
// answer over the whole column. A failure names its seed; LOOM_TEST_SEED=<seed> reruns just that case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Bool, Dictionary, Float32, Float64, Int8, Int32, Int64, Table, TimestampMillisecond, Uint64, Utf8, vectorFromArray, type DataType,
} from 'apache-arrow';
import { PartitionError, type ReductionSpec } from '../src/index.js';
import { seededRandom } from './helpers.js';
import { reduceInTree } from './reduction-tree.js';

const CASES = 120;
const FIRST_SEED = 1000;

type Generated = { type: DataType; family: 'int' | 'float' | 'bool' | 'string' | 'temporal'; values: unknown[] };

function generate(random: () => number): Generated {
  const rows = random() < 0.1 ? 0 : Math.floor(random() * 300);
  const nullRate = [0, 0, 0.1, 0.5, 1][Math.floor(random() * 5)]!;
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)]!;
  const column = (make: () => unknown) => Array.from({ length: rows }, () => (random() < nullRate ? null : make()));
  const words = ['a', 'b', 'ab', 'B', '', 'é', '\uffff', '\u{1f600}', '\u{10000}x', 'zz'];
  const bigint64 = () => {
    const near = BigInt(Math.floor(random() * 1000));
    return pick([near - 500n, 2n ** 63n - 1n - near, -(2n ** 63n) + near, BigInt.asIntN(64, BigInt(Math.floor(random() * 2 ** 53)) * 1237n)]);
  };
  const float = (scale: number, offset: number) => () => (random() < 0.05 ? NaN : offset + (random() - 0.5) * scale);
  switch (Math.floor(random() * 10)) {
    case 0:
      return { type: new Int8(), family: 'int', values: column(() => Math.floor(random() * 256) - 128) };
    case 1:
      return { type: new Int32(), family: 'int', values: column(() => Math.floor(random() * 2 ** 32) - 2 ** 31) };
    case 2:
      return { type: new Int64(), family: 'int', values: column(bigint64) };
    case 3:
      return { type: new Uint64(), family: 'int', values: column(() => BigInt.asUintN(64, bigint64())) };
    case 4:
      return { type: new Float64(), family: 'float', values: column(float(pick([1, 1e6]), pick([0, 1e9, -3]))) };
    case 5:
      return { type: new Float32(), family: 'float', values: column(float(100, 0)) };
    case 6:
      return { type: new Utf8(), family: 'string', values: column(() => pick(words)) };
    case 7:
      return { type: new Dictionary(new Utf8(), new Int32()), family: 'string', values: column(() => pick(words)) };
    case 8:
      return { type: new Bool(), family: 'bool', values: column(() => random() < 0.3) };
    default:
      return { type: new TimestampMillisecond(), family: 'temporal', values: column(() => new Date(Math.floor(random() * 40) * 86_400_000)) };
  }
}

/** Random contiguous partitions of the whole table, some empty, some made of two record batches. */
function partition(whole: Table, random: () => number): Table[] {
  const cuts = Array.from({ length: Math.floor(random() * 8) }, () => Math.floor(random() * (whole.numRows + 1))).sort((a, b) => a - b);
  const bounds = [0, ...cuts, whole.numRows];
  const tables: Table[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [start, end] = [bounds[i]!, bounds[i + 1]!];
    const middle = start + Math.floor(random() * (end - start + 1));
    tables.push(random() < 0.3 ? whole.slice(start, middle).concat(whole.slice(middle, end)) : whole.slice(start, end));
  }
  return tables;
}

const SPECS: ReductionSpec[] = [
  { op: 'sum', column: 'x' },
  { op: 'mean', column: 'x' },
  { op: 'var', column: 'x', ddof: 1 },
  { op: 'std', column: 'x', ddof: 0 },
  { op: 'min', column: 'x' },
  { op: 'max', column: 'x' },
  { op: 'nunique', column: 'x', dropna: true },
  { op: 'nunique', column: 'x', dropna: false },
  { op: 'valueCounts', column: 'x', dropna: true },
  { op: 'valueCounts', column: 'x', dropna: false },
];

test(`reductions agree with a one-pass reference over ${CASES} random partitionings`, () => {
  const only = process.env['LOOM_TEST_SEED'];
  const seeds = only === undefined ? Array.from({ length: CASES }, (_, i) => FIRST_SEED + i) : [Number(only)];
  for (const seed of seeds) {
    const random = seededRandom(seed);
    const generated = generate(random);
    const whole = new Table({ x: vectorFromArray(generated.values, generated.type) });
    const tables = partition(whole, random);
    const splitEvery = 2 + Math.floor(random() * 4);
    const values = [...(whole.getChild('x') ?? [])] as unknown[];
    for (const spec of SPECS) {
      const what = `seed ${seed} (${String(generated.type)}, ${values.length} rows in ${tables.length} partitions, splitEvery ${splitEvery}), ${spec.op}${'dropna' in spec ? ` dropna=${spec.dropna}` : ''}`;
      const expected = reference(spec, generated.family, values);
      if (expected === UNSUPPORTED) {
        assert.throws(() => reduceInTree(spec, tables, splitEvery), (error: unknown) => error instanceof PartitionError && error.code === 'UNSUPPORTED_TYPE', what);
        continue;
      }
      let actual: unknown;
      try {
        actual = reduceInTree(spec, tables, splitEvery);
      } catch (error) {
        throw new Error(`${what}: threw ${(error as Error).message}`, { cause: error });
      }
      compare(actual, expected, what);
    }
  }
});

const UNSUPPORTED = Symbol('unsupported');

type Expected = { exact: unknown } | { near: number; tolerance: number } | { counts: Array<[unknown, number]> } | typeof UNSUPPORTED;

function reference(spec: ReductionSpec, family: Generated['family'], column: readonly unknown[]): Expected {
  const missing = (value: unknown) => value === null || (typeof value === 'number' && Number.isNaN(value));
  const present = column.filter((value) => !missing(value));
  const numeric = family === 'int' || family === 'float' || family === 'bool';
  const exactInts = family !== 'float';
  const asBig = (value: unknown) => (typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value as number | bigint));
  switch (spec.op) {
    case 'sum': {
      if (!numeric) return UNSUPPORTED;
      if (exactInts) return { exact: present.reduce<bigint>((sum, value) => sum + asBig(value), 0n) };
      const numbers = present as number[];
      return { near: numbers.reduce((sum, x) => sum + x, 0), tolerance: 1e-12 * numbers.reduce((sum, x) => sum + Math.abs(x), 0) };
    }
    case 'mean': {
      if (!numeric) return UNSUPPORTED;
      if (present.length === 0) return { exact: null };
      const mean = exactInts ? Number(present.reduce<bigint>((sum, value) => sum + asBig(value), 0n)) / present.length : (present as number[]).reduce((s, x) => s + x, 0) / present.length;
      return { near: mean, tolerance: 1e-12 * Math.max(1, Math.abs(mean), ...(exactInts ? [] : (present as number[]).map(Math.abs))) };
    }
    case 'var':
    case 'std': {
      if (!numeric) return UNSUPPORTED;
      const n = present.length;
      if (n - spec.ddof <= 0) return { exact: null };
      let variance: number;
      if (exactInts) {
        // Exact: (n Σx² - (Σx)²) / (n (n - ddof)), in bigints until the one division.
        const xs = present.map(asBig);
        const total = xs.reduce((s, x) => s + x, 0n);
        const squares = xs.reduce((s, x) => s + x * x, 0n);
        variance = Number(BigInt(n) * squares - total * total) / (n * (n - spec.ddof));
      } else {
        const xs = present as number[];
        const mean = xs.reduce((s, x) => s + x, 0) / n;
        variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - spec.ddof);
      }
      const value = spec.op === 'std' ? Math.sqrt(variance) : variance;
      return { near: value, tolerance: 1e-9 * Math.abs(value) + 1e-12 };
    }
    case 'min':
    case 'max': {
      if (present.length === 0) return { exact: null };
      const sign = spec.op === 'min' ? 1 : -1;
      return { exact: present.reduce((best, value) => (sign * order(value, best) < 0 ? value : best)) };
    }
    case 'nunique': {
      const distinct = new Set(present).size;
      return { exact: distinct + (!spec.dropna && present.length < column.length ? 1 : 0) };
    }
    case 'valueCounts': {
      const counts = new Map<unknown, number>();
      for (const value of column) {
        const key = missing(value) ? null : value;
        if (key === null && spec.dropna) continue;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return { counts: [...counts].sort((a, b) => b[1] - a[1]) };
    }
  }
}

/** The order a user would expect, written independently of the kernels: strings by code point arrays. */
function order(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const [x, y] = [Array.from(a, (c) => c.codePointAt(0)!), Array.from(b, (c) => c.codePointAt(0)!)];
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function compare(actual: unknown, expected: Exclude<Expected, typeof UNSUPPORTED>, what: string): void {
  if ('exact' in expected) {
    assert.equal(actual, expected.exact, what);
  } else if ('near' in expected) {
    assert.equal(typeof actual, 'number', `${what}: a number`);
    const ok = Number.isNaN(expected.near) ? Number.isNaN(actual) : Math.abs((actual as number) - expected.near) <= expected.tolerance;
    assert.ok(ok, `${what}: ${String(actual)} vs ${expected.near} (tolerance ${expected.tolerance})`);
  } else {
    const table = actual as Table;
    const rows = table.toArray().map((row: { value: unknown; count: bigint }) => [row.value, Number(row.count)]);
    assert.deepEqual(rows, expected.counts, what);
  }
}
