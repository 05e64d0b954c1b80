// Families rebuilt from their specs, once per task thread: a user-defined family's module is imported once,
// not once per batch, and the family's scratch buffers are reused by every batch the thread runs.
import type { ModelFamily } from '../families/family.js';
import { resolveFamily, type FamilySpec } from '../families/family-spec.js';

const families = new Map<string, Promise<ModelFamily>>();

export function threadFamily(spec: FamilySpec): Promise<ModelFamily> {
  const cacheKey = JSON.stringify(spec);
  let family = families.get(cacheKey);
  if (family === undefined) {
    family = resolveFamily(spec);
    families.set(cacheKey, family);
    family.catch(() => families.delete(cacheKey));
  }
  return family;
}
