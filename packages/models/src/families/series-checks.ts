// Input checks shared by the families: every value finite, enough values, integer parameters in range.
// Families fail loudly rather than impute, so a slice with gaps is reported, never silently mis-fitted.
import { FamilyError } from './errors.js';

/** Throws NON_FINITE naming the first NaN or infinite entry of `values`. */
export function assertFinite(values: Float64Array, what: string): void {
  // One sum catches any NaN or infinity cheaply; only then is the culprit looked for.
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * 0;
  if (sum === 0) return;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new FamilyError('NON_FINITE', `${what} value ${i} is ${values[i]}; fill or drop missing values before fitting`);
  }
}

export function assertLength(length: number, needed: number, what: string, who: string): void {
  if (length < needed) throw new FamilyError('TOO_SHORT', `${what} has ${length} values; ${who} needs at least ${needed}`);
}

/** Reads an integer family parameter in [min, max], defaulting when absent. */
export function integerParam(value: unknown, name: string, family: string, min: number, max: number, fallback?: number): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new FamilyError('INVALID_PARAMS', `${family}: ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return v;
}

/** Reads a positive finite family parameter, defaulting when absent. */
export function positiveParam(value: unknown, name: string, family: string, fallback: number): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new FamilyError('INVALID_PARAMS', `${family}: ${name} must be a positive number, got ${String(value)}`);
  }
  return v;
}

/** Checks a packed model vector before a family reads it. */
export function assertModel(model: Float64Array, count: number, key: string): void {
  if (!(model instanceof Float64Array) || model.length !== count) {
    throw new FamilyError('INVALID_PARAMS', `${key} models have ${count} parameters, got ${model instanceof Float64Array ? model.length : typeof model}`);
  }
}

/** Whether x[0..n) is constant to working precision (its spread below 1e-12 of its level, or zero). */
export function isConstant(x: Float64Array, n: number): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    if (x[i]! < min) min = x[i]!;
    if (x[i]! > max) max = x[i]!;
  }
  return max - min <= 1e-12 * Math.max(Math.abs(min), Math.abs(max));
}
