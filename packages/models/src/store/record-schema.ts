// The columns of a store file, in order: what the README's table documents and what any Arrow reader sees.
// One row per model; metrics in snake_case; a split's passed-through columns as nullable utf8 `extra.<name>`.
import type { ModelRecord } from './model-record.js';
import { COUNT_METRICS, FLOAT_METRICS } from './model-record.js';

/** Schema metadata key marking a model store file, with the format version as its value. */
export const FORMAT_KEY = 'loom.model_store.format';
export const FORMAT_VERSION = '1';
export const EXTRA_PREFIX = 'extra.';

/** Utf8 columns every file has. */
export const TEXT_COLUMNS = [
  ['id', (r: ModelRecord) => r.id],
  ['family', (r: ModelRecord) => r.family],
  ['family_key', (r: ModelRecord) => r.familyKey],
] as const;

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Float64 columns: the ranges, then the float metrics. */
export const FLOAT_COLUMNS: ReadonlyArray<readonly [string, (r: ModelRecord) => number]> = [
  ['train_from', (r) => r.trainRange.from],
  ['train_to', (r) => r.trainRange.to],
  ['test_from', (r) => r.testRange.from],
  ['test_to', (r) => r.testRange.to],
  ...FLOAT_METRICS.map((metric) => [snake(metric), (r: ModelRecord) => r.metrics[metric]] as const),
];

/** Int32 columns: the count metrics. */
export const COUNT_COLUMNS: ReadonlyArray<readonly [string, (r: ModelRecord) => number]> = COUNT_METRICS.map(
  (metric) => [snake(metric), (r: ModelRecord) => r.metrics[metric]] as const,
);

/** Metric name of each metric column, for decoding. */
export const METRIC_OF_COLUMN: ReadonlyMap<string, string> = new Map([...FLOAT_METRICS, ...COUNT_METRICS].map((metric) => [snake(metric), metric]));

export const TRAINED_AT = 'trained_at';

/** What a file's schema depends on besides its rows. */
export interface RecordLayout {
  /** Every record's params length when they agree (FixedSizeList column), undefined otherwise (List column). */
  paramWidth: number | undefined;
  /** The extra columns, sorted. */
  extraKeys: readonly string[];
}

export function layoutOf(records: readonly ModelRecord[]): RecordLayout {
  const keys = new Set<string>();
  let width: number | undefined = records[0]?.params.length;
  for (const record of records) {
    if (record.params.length !== width) width = undefined;
    for (const key of Object.keys(record.extra)) keys.add(key);
  }
  return { paramWidth: width, extraKeys: [...keys].sort() };
}

/** A layout that holds the records of both. */
export function mergeLayouts(a: RecordLayout | undefined, b: RecordLayout): RecordLayout {
  if (a === undefined) return b;
  return {
    paramWidth: a.paramWidth === b.paramWidth ? a.paramWidth : undefined,
    extraKeys: [...new Set([...a.extraKeys, ...b.extraKeys])].sort(),
  };
}
