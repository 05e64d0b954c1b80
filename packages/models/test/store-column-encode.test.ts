// writeColumns encodes a batch column by column (column-encode.ts); the reference is the row encoder reading
// the same columns cell by cell (ColumnRows below, what writeColumns used before). For random batches
// (listed and unlisted rows, extra columns with missing and non-ASCII cells, lone surrogates at cell edges)
// both must write the same bytes. Seeded, so a failure reproduces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '@loom/testing';
import { encodeColumns } from '../src/store/column-encode.js';
import { checkColumns, type CountMetric, type FloatMetric, type ModelColumns } from '../src/store/model-columns.js';
import { COUNT_METRICS, FLOAT_METRICS } from '../src/store/model-record.js';
import { encodeRows, fillTrainedAt, type RowSource } from '../src/store/record-encode.js';
import { EXTRA_PREFIX, METRIC_OF_COLUMN } from '../src/store/record-schema.js';

const RANGE_COLUMNS: ReadonlyMap<string, number> = new Map([['train_from', 0], ['train_to', 1], ['test_from', 2], ['test_to', 3]]);

/** The listed rows of checked columns, read cell by cell. */
class ColumnRows implements RowSource {
  constructor(
    readonly columns: ModelColumns,
    readonly trainedAtMs: number,
  ) {}

  get length(): number {
    return this.columns.rows.length;
  }

  text(name: string): ReturnType<RowSource['text']> {
    const { rows, ids, extra } = this.columns;
    const key = name.slice(EXTRA_PREFIX.length);
    const cell: (i: number) => string | undefined =
      name === 'id' ? (i) => ids[rows[i] as number]
      : name === 'family' ? () => this.columns.family
      : name === 'family_key' ? () => this.columns.familyKey
      : (i) => {
        const cells = extra[rows[i] as number] as Readonly<Record<string, string>>;
        return Object.hasOwn(cells, key) ? cells[key] : undefined;
      };
    return {
      bytes: (i) => {
        const value = cell(i);
        return value === undefined ? -1 : Buffer.byteLength(value, 'utf8');
      },
      write: (i, target, at) => target.write(cell(i) as string, at, 'utf8'),
    };
  }

  number(name: string): (i: number) => number {
    const { rows, ranges } = this.columns;
    const range = RANGE_COLUMNS.get(name);
    if (range !== undefined) return (i) => ranges[4 * (rows[i] as number) + range] as number;
    const metric = METRIC_OF_COLUMN.get(name) as FloatMetric | CountMetric;
    const column = (this.columns.floatMetrics as Record<string, Float64Array>)[metric] ?? (this.columns.countMetrics as Record<string, Int32Array>)[metric];
    return (i) => (column as Float64Array | Int32Array)[rows[i] as number] as number;
  }

  params(i: number): Float64Array {
    const { rows, params, paramCount } = this.columns;
    const row = rows[i] as number;
    return params.subarray(row * paramCount, (row + 1) * paramCount);
  }

  trainedAt(words: Int32Array): void {
    fillTrainedAt(words, this.length, this.trainedAtMs);
  }
}

const TEXTS = ['eu', 'us', '', 'é', 'ops, infra', '\ud83d', '\ude00', '日本'];

function randomColumns(random: () => number): ModelColumns {
  const n = Math.floor(random() * 400);
  const k = Math.floor(random() * 12);
  const keys = ['owner', 'region', 'tier'].filter(() => random() < 0.6);
  const text = (): string => Array.from({ length: Math.floor(random() * 3) }, () => TEXTS[Math.floor(random() * TEXTS.length)]).join('');
  return {
    rows: Uint32Array.from({ length: n }, (_, i) => i).filter(() => random() < 0.9),
    ids: Array.from({ length: n }, (_, i) => (random() < 0.1 ? `é${i}` : `db${i}.cpu`)),
    family: 'ar',
    familyKey: `ar(p=${k},d=0,k=3)`,
    paramCount: k,
    params: Float64Array.from({ length: n * k }, () => random() * 10 - 5),
    ranges: Float64Array.from({ length: 4 * n }, () => Math.floor(random() * 1e12)),
    floatMetrics: Object.fromEntries(FLOAT_METRICS.map((name) => [name, Float64Array.from({ length: n }, () => (random() < 0.1 ? NaN : random()))])) as ModelColumns['floatMetrics'],
    countMetrics: Object.fromEntries(COUNT_METRICS.map((name) => [name, Int32Array.from({ length: n }, () => Math.floor(random() * 100))])) as ModelColumns['countMetrics'],
    extra: Array.from({ length: n }, () => Object.fromEntries(keys.filter(() => random() < 0.7).map((key) => [key, text()]))),
  };
}

test('a batch encoded column by column is the bytes the row encoder writes for it', () => {
  const random = seededRandom(51);
  for (let trial = 0; trial < 80; trial++) {
    const columns = randomColumns(random);
    const layout = checkColumns(columns, `trial ${trial}`);
    const at = 1.7e12 + trial;
    assert.deepEqual(encodeColumns(columns, layout, at), encodeRows(new ColumnRows(columns, at), layout), `trial ${trial}`);
  }
});
