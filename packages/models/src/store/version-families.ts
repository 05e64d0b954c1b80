// Which family trained each family key of a version: trainMany records its family's spec in the manifest, and a
// version that carried models forward holds keys whose spec is recorded in an earlier version. Scoring tasks and
// the REST server both rebuild families from this.
import type { FamilySpec } from '../families/family-spec.js';
import { versionDir } from './store-layout.js';
import { readManifest, type VersionManifest } from './version-manifest.js';

/**
 * Each family key's spec: from the version's trainMany record, then from the versions it carried models from,
 * until every key the version holds is found or the chain ends (models written by hand have none).
 */
export async function versionFamilySpecs(storeDir: string, manifest: VersionManifest): Promise<Map<string, FamilySpec>> {
  const specs = new Map<string, FamilySpec>();
  const wanted = new Set(Object.keys(manifest.families));
  let at: VersionManifest | undefined = manifest;
  const seen = new Set<number>();
  while (at !== undefined && specs.size < wanted.size && !seen.has(at.version)) {
    seen.add(at.version);
    const run = at.meta['trainMany'] as { familyKey?: unknown; family?: unknown } | undefined;
    if (typeof run?.familyKey === 'string' && typeof run.family === 'object' && run.family !== null && !specs.has(run.familyKey)) {
      specs.set(run.familyKey, run.family as FamilySpec);
    }
    const from: number | null = at.carriedFrom;
    at = from === null ? undefined : await readManifest(versionDir(storeDir, manifest.group, from)).catch(() => undefined);
  }
  return specs;
}
