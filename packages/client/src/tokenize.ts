// Deterministic task keys, like Dask's tokenize: `${name}-${sha1(function id, encoded arguments, dependency keys)}`.
// The same call on the same inputs always gets the same key, so identical sub-expressions are computed once;
// impure calls get a random key instead.
import * as crypto from 'node:crypto';

type OneShotHash = (algorithm: string, data: string, encoding: 'hex') => string;

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per task; older Nodes build one.
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;
const sha1Hex: (text: string) => string = oneShot
  ? (text) => oneShot('sha1', text, 'hex')
  : (text) => crypto.createHash('sha1').update(text).digest('hex');

export function tokenize(functionId: string, encodedArgs: Uint8Array, dependencyKeys: readonly string[]): string {
  // One string for one hash call: latin-1 maps each byte to one character, so distinct bytes stay distinct.
  let text = `${functionId}\0${Buffer.from(encodedArgs.buffer, encodedArgs.byteOffset, encodedArgs.byteLength).toString('latin1')}`;
  for (const key of dependencyKeys) text += `\0${key}`;
  return sha1Hex(text);
}

export function pureKey(name: string, functionId: string, encodedArgs: Uint8Array, dependencyKeys: readonly string[]): string {
  return `${name}-${tokenize(functionId, encodedArgs, dependencyKeys)}`;
}

export function randomKey(name: string): string {
  // No dashes in the random part: the scheduler takes the text before the last dash as the task prefix.
  return `${name}-${crypto.randomUUID().replaceAll("-", "")}`;
}
