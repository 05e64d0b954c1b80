// Text to CharCNN input: 1-based alphabet indices, 0 for unknown characters and padding, truncated or padded to
// the model's length. The exported model's metadata (alphabet, length, lowercase) says how to call this.
import { MlError } from './errors.js';
import { alphabetIndex } from './text/alphabet-index.js';

export interface TextEncoding {
  readonly alphabet: string;
  readonly length: number;
  readonly lowercase: boolean;
}

/** Encodes texts into a BigInt64Array [texts.length, length] (row-major), ready as the `chars` input. */
export function encodeTexts(texts: readonly string[], encoding: TextEncoding): BigInt64Array {
  const index = alphabetIndex(encoding.alphabet, encoding.lowercase).byChar;
  const out = new BigInt64Array(texts.length * encoding.length);
  texts.forEach((text, row) => {
    const chars = Array.from(encoding.lowercase ? text.toLowerCase() : text);
    for (let i = 0; i < encoding.length && i < chars.length; i++) {
      out[row * encoding.length + i] = BigInt(index.get(chars[i] as string) ?? 0);
    }
  });
  return out;
}

/** Reads the encoding back from an exported model's metadata (values are JSON). */
export function textEncodingFromMetadata(metadata: Readonly<Record<string, string>>): TextEncoding {
  const read = (key: string): unknown => {
    const raw = metadata[key];
    if (raw === undefined) throw new MlError('INVALID_ARGUMENT', `model metadata lacks '${key}'`);
    return JSON.parse(raw) as unknown;
  };
  const alphabet = read('alphabet');
  const length = read('length');
  const lowercase = read('lowercase');
  if (typeof alphabet !== 'string' || typeof length !== 'number' || typeof lowercase !== 'boolean') {
    throw new MlError('INVALID_ARGUMENT', 'model metadata alphabet/length/lowercase have the wrong types');
  }
  return { alphabet, length, lowercase };
}
