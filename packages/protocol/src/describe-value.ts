// A value's kind as error messages name it: "null", "an array", "an object (Table)", "string".

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object (${Object.getPrototypeOf(value)?.constructor?.name ?? 'null prototype'})` : typeof value;
}
