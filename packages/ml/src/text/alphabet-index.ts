// Character to alphabet index (1-based; 0 for unknown characters and padding), shared by the string encoder and
// the Arrow vectorizer. An ASCII alphabet also gets a byte table, so ASCII text is encoded straight from UTF-8.
import { MlError } from '../errors.js';

export interface AlphabetIndex {
  /** 1-based index of each code point; the first occurrence wins (the paper lists '-' twice). */
  readonly byChar: ReadonlyMap<string, number>;
  /** Index of each ASCII byte, lower-casing A-Z when the encoding does; undefined when the alphabet is not ASCII. */
  readonly byAsciiByte: Uint8Array | undefined;
  /** Alphabet entries (code points), which bounds the indices. */
  readonly size: number;
}

export function alphabetIndex(alphabet: string, lowercase: boolean): AlphabetIndex {
  const chars = Array.from(alphabet);
  if (chars.length === 0) throw new MlError('INVALID_ARGUMENT', 'the alphabet is empty');
  const byChar = new Map<string, number>();
  chars.forEach((char, i) => { if (!byChar.has(char)) byChar.set(char, i + 1); });
  const ascii = chars.every((char) => char.charCodeAt(0) < 0x80);
  let byAsciiByte: Uint8Array | undefined;
  if (ascii && chars.length <= 255) {
    byAsciiByte = new Uint8Array(128);
    for (let byte = 0; byte < 128; byte++) {
      const char = String.fromCharCode(byte);
      byAsciiByte[byte] = byChar.get(lowercase ? char.toLowerCase() : char) ?? 0;
    }
  }
  return { byChar, byAsciiByte, size: chars.length };
}
