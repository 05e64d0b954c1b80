// Output buffers for `predict`: the caller's reusable ones when given (checked for size), fresh ones otherwise.
import type { Prediction } from './family.js';
import { FamilyError } from './errors.js';

export function predictionBuffers(out: Prediction | undefined, length: number): Prediction {
  if (out === undefined) return { predicted: new Float64Array(length), lower: new Float64Array(length), upper: new Float64Array(length) };
  if (out.predicted.length < length || out.lower.length < length || out.upper.length < length) {
    throw new FamilyError('INVALID_PARAMS', `prediction buffers hold fewer than the ${length} test values`);
  }
  return out;
}
