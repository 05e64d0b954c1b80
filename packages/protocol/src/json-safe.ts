// Decides whether a value survives JSON exactly, for the cheap JSON codec. Only small values qualify: the walk
// is bounded, and large data is better served by V8's binary serializer anyway.
const MAX_NODES = 256;

/** True when JSON.parse(JSON.stringify(value)) would equal `value` in every respect V8 serialization keeps. */
export function isSmallJsonValue(value: unknown): boolean {
  const budget = { nodes: 0 };
  return walk(value, budget, 0);
}

function walk(value: unknown, budget: { nodes: number }, depth: number): boolean {
  if (++budget.nodes > MAX_NODES || depth > 16) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      // NaN, Infinity and -0 do not survive JSON.
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          // Holes and undefined become null in JSON.
          if (!(i in value) || !walk(value[i], budget, depth + 1)) return false;
        }
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false; // Date, Map, typed arrays, classes
      for (const key in value) {
        if (key === '__proto__' || !walk((value as Record<string, unknown>)[key], budget, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false; // undefined, bigint, symbol, function
  }
}
