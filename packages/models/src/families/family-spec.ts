// Families as data, so a task thread can rebuild the family a client chose: a built-in by name and
// parameters, a user-defined one by its module reference. The model store records the same spec per group.
import { ar, Autoregression, type ArParams } from './ar.js';
import { arima, Arima, type ArimaParams } from './arima.js';
import { FamilyError } from './errors.js';
import type { ModelFamily } from './family.js';
import { loadedFrom, loadFamily, type FamilyModuleRef } from './load-family.js';
import { lstm, LstmForecaster, type LstmParams } from './lstm/lstm.js';
import { seasonal, SeasonalMedian, type SeasonalParams } from './seasonal.js';

export type BuiltinFamilySpec =
  | { readonly family: 'ar'; readonly params: ArParams }
  | { readonly family: 'arima'; readonly params: ArimaParams }
  | { readonly family: 'seasonal'; readonly params: SeasonalParams }
  | { readonly family: 'lstm'; readonly params: LstmParams };

export type FamilySpec = BuiltinFamilySpec | FamilyModuleRef;

/** The spec that rebuilds `family`: for built-ins and families from loadFamily. */
export function familySpec(family: ModelFamily): FamilySpec {
  const ref = loadedFrom(family);
  if (ref !== undefined) return ref;
  if (family instanceof Autoregression) return { family: 'ar', params: { ...family.params } };
  if (family instanceof Arima) return { family: 'arima', params: { ...family.params } };
  if (family instanceof SeasonalMedian) return { family: 'seasonal', params: { ...family.params } };
  if (family instanceof LstmForecaster) return { family: 'lstm', params: { ...family.params } };
  throw new FamilyError('INVALID_FAMILY', `family ${family.key()} was not made by ar(), arima(), seasonal(), lstm() or loadFamily(), so a task thread cannot rebuild it; load it with loadFamily({ module, export, params })`);
}

/** Builds the family a spec names (importing a user-defined family's module in this thread). */
export async function resolveFamily(spec: FamilySpec): Promise<ModelFamily> {
  if ('module' in spec) return loadFamily(spec);
  switch (spec.family) {
    case 'ar':
      return ar(spec.params);
    case 'arima':
      return arima(spec.params);
    case 'seasonal':
      return seasonal(spec.params);
    case 'lstm':
      return lstm(spec.params);
    default:
      throw new FamilyError('INVALID_PARAMS', `unknown built-in family '${String((spec as { family: unknown }).family)}' (known: ar, arima, seasonal, lstm)`);
  }
}
