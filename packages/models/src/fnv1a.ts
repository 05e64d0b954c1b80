// FNV-1a, 32 bits, over a byte range: the hash of the tables that find strings by their UTF-8 bytes without
// making them (the model id index, the split's text cells).

export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash >>> 0;
}

/**
 * fnv1a of `text`'s UTF-8 bytes when every character is ASCII (its char codes are then its bytes), without
 * encoding it; -1 when it is not ASCII.
 */
export function fnv1aAscii(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    hash = Math.imul(hash ^ code, 0x01000193);
  }
  return hash >>> 0;
}
