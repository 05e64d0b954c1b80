// A small seeded pseudo-random generator (mulberry32), so a randomized test or fuzz sequence replays exactly
// from the seed it prints. Not for anything but tests: 32 bits of state, fine for exploring input spaces.

/** The next state and value of mulberry32. */
function step(state: number): { state: number; value: number } {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { state: next, value: ((t ^ (t >>> 14)) >>> 0) / 4294967296 };
}

/** A generator as a plain function returning values uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    const { state, value } = step(this.state);
    this.state = state;
    return value;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** Some of `items` (each kept with the given probability), in their order. */
  subset<T>(items: Iterable<T>, probability: number): T[] {
    const kept: T[] = [];
    for (const item of items) if (this.chance(probability)) kept.push(item);
    return kept;
  }

  /** Picks a key by weight; weights of zero are never picked. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    let total = 0;
    for (const key in weights) total += weights[key];
    let point = this.next() * total;
    for (const key in weights) {
      point -= weights[key];
      if (point < 0 && weights[key] > 0) return key;
    }
    throw new Error('no action has a weight');
  }
}
