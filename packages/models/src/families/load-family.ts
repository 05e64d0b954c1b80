// User-defined model families by module reference: `loadFamily({ module, export, params })` imports the
// module (inside whichever thread calls it), builds the family from the export (a factory or class taking
// params, or a ready family object) and checks that it implements ModelFamily, naming everything missing.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FamilyError } from './errors.js';
import type { ModelFamily } from './family.js';

export interface FamilyModuleRef {
  /**
   * What to import: a package name, a file: URL, or a path (a relative path is resolved against the current
   * working directory; task threads on other machines need a path or package that exists there too).
   */
  readonly module: string;
  /** The export to use. Default 'default'. */
  readonly export?: string;
  /** Passed to the export when it is a factory function or a class; must survive JSON. */
  readonly params?: unknown;
}

const loaded = new WeakMap<ModelFamily, FamilyModuleRef>();

/** The module reference a family was loaded from, when it came from loadFamily. */
export function loadedFrom(family: ModelFamily): FamilyModuleRef | undefined {
  return loaded.get(family);
}

export async function loadFamily(ref: FamilyModuleRef): Promise<ModelFamily> {
  if (typeof ref?.module !== 'string' || ref.module === '') throw new FamilyError('FAMILY_LOAD_FAILED', 'a family module reference needs a module (a package name, file: URL or path)');
  const exportName = ref.export ?? 'default';
  const where = `${ref.module} (export '${exportName}')`;
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(importSpecifier(ref.module))) as Record<string, unknown>;
  } catch (cause) {
    throw new FamilyError('FAMILY_LOAD_FAILED', `could not import family module ${ref.module}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const exported = namespace[exportName];
  if (exported === undefined) {
    const names = Object.keys(namespace).join(', ') || 'none';
    throw new FamilyError('FAMILY_LOAD_FAILED', `family module ${ref.module} has no export '${exportName}' (its exports: ${names})`);
  }
  let candidate: unknown;
  if (typeof exported === 'function') {
    try {
      candidate = isClass(exported) ? new (exported as new (params: unknown) => unknown)(ref.params) : (exported as (params: unknown) => unknown)(ref.params);
    } catch (cause) {
      throw new FamilyError('INVALID_FAMILY', `${where} threw while building the family: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  } else {
    if (ref.params !== undefined) throw new FamilyError('INVALID_FAMILY', `${where} is a family object, not a factory, so it takes no params`);
    candidate = exported;
  }
  const family = validateFamily(candidate, where);
  loaded.set(family, ref.params === undefined ? { module: ref.module, export: exportName } : { module: ref.module, export: exportName, params: ref.params });
  return family;
}

const METHODS = ['key', 'paramCount', 'paramNames', 'minTrainPoints', 'historyPoints', 'fit', 'predict'] as const;

/** Returns `candidate` as a ModelFamily, or throws INVALID_FAMILY listing every member it lacks or gets wrong. */
export function validateFamily(candidate: unknown, where: string): ModelFamily {
  if (typeof candidate !== 'object' || candidate === null) {
    throw new FamilyError('INVALID_FAMILY', `${where} does not implement ModelFamily: it gave ${candidate === null ? 'null' : typeof candidate}, not an object`);
  }
  const c = candidate as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof c['name'] !== 'string' || c['name'] === '') problems.push('name (a non-empty string) is missing');
  if (typeof c['params'] !== 'object' || c['params'] === null) problems.push('params (an object) is missing');
  const missing = METHODS.filter((method) => typeof c[method] !== 'function');
  if (missing.length > 0) problems.push(`missing ${missing.map((m) => `${m}()`).join(', ')}`);
  if (c['fitBatch'] !== undefined && typeof c['fitBatch'] !== 'function') problems.push('fitBatch (optional) is not a function');
  if (problems.length === 0) {
    const family = candidate as ModelFamily;
    const check = (what: string, read: () => unknown, ok: (value: unknown) => boolean, expected: string): unknown => {
      try {
        const value = read();
        if (!ok(value)) problems.push(`${what} returned ${JSON.stringify(value)} (expected ${expected})`);
        return value;
      } catch (error) {
        problems.push(`${what} threw: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    };
    const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    check('key()', () => family.key(), (v) => typeof v === 'string' && v !== '', 'a non-empty string');
    const count = check('paramCount()', () => family.paramCount(), (v) => isCount(v) && (v as number) > 0, 'a positive integer');
    check('minTrainPoints()', () => family.minTrainPoints(), isCount, 'a non-negative integer');
    check('historyPoints()', () => family.historyPoints(), isCount, 'a non-negative integer');
    check('paramNames()', () => family.paramNames(), (v) => Array.isArray(v) && v.length === count && v.every((n) => typeof n === 'string'), `${String(count)} strings, one per parameter`);
  }
  if (problems.length > 0) throw new FamilyError('INVALID_FAMILY', `${where} does not implement ModelFamily: ${problems.join('; ')}`);
  return candidate as ModelFamily;
}

function importSpecifier(module: string): string {
  if (module.startsWith('file:') || module.startsWith('node:')) return module;
  if (isAbsolute(module) || module.startsWith('./') || module.startsWith('../')) return pathToFileURL(resolve(module)).href;
  return module;
}

function isClass(value: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(value));
}
