// The task prefix of a key: what the client's progress bars and the scheduler's dashboard group tasks by. Keys
// are `${name}-${token}` (the client's tokenize.ts; names never hold a dash), so the prefix is the text before
// the last dash, as Dask's key_split reads `name-token`; a user-given key without a dash is its own prefix.

export function keyPrefix(key: string): string {
  const dash = key.lastIndexOf('-');
  return dash > 0 ? key.slice(0, dash) : key;
}
