// A deterministic train/validation/test split that does not depend on partitioning: a row's side is decided by a
// seeded hash (FNV-1a) of its text bytes, so the same text always lands on the same side, wherever it is read from.

export interface SplitSpec {
  /** Fraction of rows on the test side, in [0, 1). */
  readonly testFraction: number;
  /** Fraction of the other rows set aside for validation (early stopping), in [0, 1); default 0. */
  readonly validationFraction?: number;
  readonly seed: number;
  /** Which side this read keeps. */
  readonly keep: 'train' | 'validation' | 'test';
}

/** True when the row belongs to the side `split.keep` names. Null text hashes as empty. */
export function splitBucket(text: Uint8Array | null, split: SplitSpec): boolean {
  let hash = (0x811c9dc5 ^ Math.imul(split.seed | 0, 0x9e3779b1)) >>> 0;
  if (text !== null) {
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ (text[i] as number), 0x01000193) >>> 0;
  }
  // Final avalanche (murmur3 fmix32): FNV's low bits alone correlate with the last bytes.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  // One uniform draw per text: [0, test) is the test side, the next validationFraction of the rest validation.
  const u = (hash >>> 0) / 2 ** 32;
  const validationEnd = split.testFraction + (split.validationFraction ?? 0) * (1 - split.testFraction);
  const side = u < split.testFraction ? 'test' : u < validationEnd ? 'validation' : 'train';
  return side === split.keep;
}
