// Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32) for weight initialization, dropout
// masks and test data. Streams are derived from (seed, ...keys) so a replica, a step and a layer each get an
// independent, reproducible sequence: a resumed run regenerates exactly the masks an uninterrupted run used.
import type { FloatType } from './dtype.js';
import type { TensorData } from './tensor-data.js';

function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  /** A stream determined by the seed and any number of integer keys (replica, step, layer, ...). */
  constructor(seed: number, ...keys: readonly number[]) {
    let state = seed | 0;
    for (const key of keys) {
      let mixed: number;
      [state, mixed] = splitmix32(state);
      state = (mixed ^ Math.imul(key | 0, 0x27d4eb2d) ^ Math.floor(key / 2 ** 32)) | 0;
    }
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      let word: number;
      [state, word] = splitmix32(state);
      words.push(word);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller, using both values of each pair). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    const u = 1 - this.uniform();
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}

/** A float tensor of independent normal draws (test data, gradient-check points). */
export function normalTensor(rng: Rng, dtype: FloatType, shape: readonly number[], std = 1): TensorData {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
  return { dtype, shape: [...shape], data };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
