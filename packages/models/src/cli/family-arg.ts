// The family of `loom models train --family`: a built-in as `name(key=value, ...)` (`ar(p=8)`,
// `arima(p=2,d=1,q=1)`, `seasonal(period=24,scale=phase)`, `lstm(window=24,hidden=16)`), or a user-defined
// family as `MODULE#EXPORT(key=value, ...)` (a path or package name; `#EXPORT` defaults to the default export).
// Values are numbers, true/false, or else text. The family checks its own parameters.
import type { FamilySpec } from '../families/family-spec.js';
import type { ModelFamily } from '../families/family.js';
import { resolveFamily } from '../families/family-spec.js';
import { isFamilyError } from '../families/errors.js';
import { TrainManyError } from '../train-many/errors.js';

const BUILTINS = ['ar', 'arima', 'seasonal', 'lstm'] as const;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseFamilyArg(text: string): FamilySpec {
  const bad = (why: string): never => {
    throw new TrainManyError('BAD_OPTIONS', `models train: --family ${JSON.stringify(text)}: ${why} (expected e.g. 'ar(p=8)', 'seasonal(period=24)' or './my-family.js#ewma(alpha=0.3)')`);
  };
  const match = /^\s*([^()\s]+)\s*(?:\((.*)\))?\s*$/s.exec(text);
  if (match === null) return bad(text.includes('(') && !text.trimEnd().endsWith(')') ? 'unclosed parenthesis' : 'not NAME(key=value, ...)');
  const [, name = '', list = ''] = match;
  const params: Record<string, string | number | boolean> = {};
  for (const item of list.split(',').map((part) => part.trim())) {
    if (item === '') {
      if (list.trim() !== '') bad('an empty parameter');
      continue;
    }
    const eq = item.indexOf('=');
    const key = item.slice(0, eq).trim();
    if (eq < 0 || !KEY.test(key)) bad(`parameter ${JSON.stringify(item)} is not key=value`);
    if (Object.hasOwn(params, key)) bad(`parameter ${key} is given twice`);
    params[key] = parseValue(item.slice(eq + 1).trim());
  }
  // The params are whatever the user typed; the family's constructor checks them (resolveFamily, below).
  if ((BUILTINS as readonly string[]).includes(name)) return { family: name, params } as unknown as FamilySpec;
  const hash = name.lastIndexOf('#');
  const module = hash < 0 ? name : name.slice(0, hash);
  if (hash < 0 && !/[/\\]|\.[cm]?js$/.test(name)) return bad(`unknown family '${name}' (built-in: ${BUILTINS.join(', ')}; a module of your own as MODULE#EXPORT)`);
  if (module === '') return bad('no module before #');
  return { module, export: hash < 0 ? 'default' : name.slice(hash + 1) || 'default', params };
}

/** The family `text` names, built (a user-defined one imported); its parameter errors are usage errors. */
export async function familyFromArg(text: string): Promise<ModelFamily> {
  const spec = parseFamilyArg(text);
  try {
    return await resolveFamily(spec);
  } catch (error) {
    if (!isFamilyError(error)) throw error;
    throw new TrainManyError('BAD_OPTIONS', `models train: --family ${JSON.stringify(text)}: ${error.message}`, { cause: error });
  }
}

function parseValue(text: string): string | number | boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const number = Number(text);
  return text !== '' && Number.isFinite(number) ? number : text;
}
