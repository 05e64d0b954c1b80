// The model family behind each family key of a version, rebuilt so the server can call its `predict`. A
// version's models name their family only by key (`ar(p=8,d=0,k=3)`); trainMany records the family's spec in
// the manifest of the version it published (versionFamilySpecs follows carried models back to theirs), which is
// the only way back to a user-defined family. A built-in is also rebuilt from its key. Either way the rebuilt
// family must give back the same key.
import { resolveFamily, versionFamilySpecs, type FamilySpec, type ModelFamily, type VersionManifest } from '@loom/models';
import { ServeError } from './serve-error.js';

const BUILTIN_KEY = /^(ar|arima|seasonal|lstm)\((.*)\)$/;
/** Key names that differ from the parameter names (lstm writes `rate` for `learningRate`). */
const KEY_PARAM_NAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = { lstm: { rate: 'learningRate' } };

export async function groupFamilies(storeDir: string, manifest: VersionManifest): Promise<Map<string, ModelFamily>> {
  const recorded = await versionFamilySpecs(storeDir, manifest);
  const families = new Map<string, ModelFamily>();
  for (const key of Object.keys(manifest.families)) {
    const candidates = [recorded.get(key), builtinSpec(key)].filter((spec): spec is FamilySpec => spec !== undefined);
    let family: ModelFamily | undefined;
    let failure = '';
    for (const spec of candidates) {
      try {
        const built = await resolveFamily(spec);
        if (built.key() === key) {
          family = built;
          break;
        }
      } catch (error) {
        failure = `: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    if (family === undefined) {
      throw new ServeError('MODEL_UNAVAILABLE', `group ${manifest.group} version ${manifest.version}: cannot rebuild family ${key} (not a built-in, and the manifest records no family module for it)${failure}`);
    }
    families.set(key, family);
  }
  return families;
}

/** The spec a built-in family's key spells, e.g. `ar(p=8,d=0,k=3)` -> `{ family: 'ar', params: { p: 8, d: 0, k: 3 } }`. */
export function builtinSpec(key: string): FamilySpec | undefined {
  const match = BUILTIN_KEY.exec(key);
  if (match === null) return undefined;
  const [, family = '', list = ''] = match;
  const renames = KEY_PARAM_NAMES[family] ?? {};
  const params: Record<string, number | string> = {};
  for (const item of list.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return undefined;
    const name = item.slice(0, eq);
    const text = item.slice(eq + 1);
    const number = Number(text);
    params[renames[name] ?? name] = text !== '' && Number.isFinite(number) ? number : text;
  }
  return { family, params } as unknown as FamilySpec;
}
