// The stored model of each slice of a batch that uses models (score, drift): the group from the per-process
// cache, each slice's record by id and its family rebuilt from the spec of its family key. A slice without a
// model, or whose family cannot be rebuilt, is a failed row; the others go on to be read and scored.
import type { ModelFamily } from '../families/family.js';
import type { FamilySpec } from '../families/family-spec.js';
import type { ModelBatchSpec, ModelBatchStats } from '../score-many/score-wire.js';
import type { StoredModel } from '../store/model-record.js';
import type { ModelGroup } from '../store/model-group.js';
import { formatRangeValue, type RangeKind } from '../split/range-value.js';
import { sharedGroup } from './shared-group.js';
import { lowerBound, type Problem } from './source-data.js';
import type { RowFailure } from './row-failures.js';
import { threadFamily } from './thread-families.js';

export interface SliceModel {
  record: StoredModel;
  family: ModelFamily;
}

/** A failed batch row: its index, a code and a message. */
export type { RowFailure } from './row-failures.js';

export interface SliceModels {
  group: ModelGroup;
  /** Per batch row: its model, or undefined when the row failed (listed in `failures`). */
  models: Array<SliceModel | undefined>;
  failures: RowFailure[];
}

export async function sliceModels(spec: ModelBatchSpec, stats: ModelBatchStats): Promise<SliceModels> {
  const { group, families, loaded } = await sharedGroup(spec.models);
  stats.groupLoaded = loaded;
  const given = new Map(spec.families);
  const resolved = new Map<string, Promise<ModelFamily | Problem>>();
  const familyOf = (key: string): Promise<ModelFamily | Problem> => {
    let family = resolved.get(key);
    if (family === undefined) {
      const familySpec: FamilySpec | undefined = given.get(key) ?? families.get(key);
      family = familySpec === undefined
        ? Promise.resolve({ code: 'UNKNOWN_FAMILY', message: `no family spec for ${key}: the store records none (pass the family to the call)` })
        : threadFamily(familySpec).then(
          (built) => (built.key() === key ? built : { code: 'UNKNOWN_FAMILY', message: `the family spec recorded for ${key} rebuilds ${built.key()} on this worker` }),
          (error: unknown) => ({ code: 'UNKNOWN_FAMILY', message: `cannot rebuild the family of ${key}: ${error instanceof Error ? error.message : String(error)}` }),
        );
      resolved.set(key, family);
    }
    return family;
  };
  const models: Array<SliceModel | undefined> = [];
  const failures: RowFailure[] = [];
  let trainingFailures: Map<string, string> | undefined;
  for (const [row, id] of spec.ids.entries()) {
    const record = group.get(id);
    if (record === undefined) {
      trainingFailures ??= failuresOfTraining(group);
      const why = trainingFailures.get(id);
      failures.push([row, 'MISSING_MODEL', `version ${group.version} of ${group.name} has no model ${JSON.stringify(id)}${why === undefined ? '' : ` (its training failed: ${why})`}`]);
      models.push(undefined);
      continue;
    }
    const family = await familyOf(record.familyKey);
    if ('code' in family) {
      failures.push([row, family.code, family.message]);
      models.push(undefined);
      continue;
    }
    models.push({ record, family });
  }
  return { group, models, failures };
}

/** The slices the version's training run could not train, with their reasons (the manifest lists them). */
function failuresOfTraining(group: ModelGroup): Map<string, string> {
  const run = group.manifest.meta['trainMany'] as { failures?: Array<{ id?: unknown; code?: unknown; error?: unknown }> } | undefined;
  const reasons = new Map<string, string>();
  for (const failure of run?.failures ?? []) {
    if (typeof failure.id === 'string') reasons.set(failure.id, `${String(failure.code)}: ${String(failure.error)}`);
  }
  return reasons;
}

/** Rows [start, end) of ascending `times` inside [from, to). */
export function rowsIn(times: Float64Array, from: number, to: number): [number, number] {
  return [lowerBound(times, from), lowerBound(times, to)];
}

/** The EMPTY_RANGE failure of a slice with no rows in a range it needs. */
export function emptyRange(row: number, what: string, from: number, to: number, kind: RangeKind, column: string | null | undefined): RowFailure {
  return [row, 'EMPTY_RANGE', `no rows in the ${what} range [${formatRangeValue(from, kind)}, ${formatRangeValue(to, kind)}) of ${column ?? 'the value column'}`];
}
