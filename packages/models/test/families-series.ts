// Seeded test series for the family tests: a small PRNG, random stationary and invertible ARMA polynomials,
// ARMA(p, q) simulation and integration. Everything is reproducible from a seed, which tests print on failure.
import { Random } from '@loom/testing';

/** The shared seeded generator with what the family tests draw: uniform ranges and normals. */
export class TestRng extends Random {
  private spare: number | undefined;

  uniform(): number {
    return this.next();
  }

  between(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** Standard normal (Box-Muller, using both values). */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const u = 1 - this.uniform();
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }
}

/**
 * Coefficients a_1..a_m of a stationary lag polynomial (x[t] = sum a_i x[t-i]) from reflection coefficients
 * drawn in (-maxReflection, maxReflection), through the Levinson-Durbin recursion: stationary by construction.
 */
export function stationaryCoefficients(rng: TestRng, m: number, maxReflection = 0.85): number[] {
  let a: number[] = [];
  for (let order = 1; order <= m; order++) {
    const kappa = rng.between(-maxReflection, maxReflection);
    const next = a.map((ai, i) => ai - kappa * a[order - 2 - i]!);
    next.push(kappa);
    a = next;
  }
  return a;
}

export interface ArmaSpec {
  readonly phi: readonly number[];
  readonly theta?: readonly number[];
  readonly mean?: number;
  readonly sigma?: number;
  readonly n: number;
}

/** Simulates mean + ARMA(phi, theta) noise of length n, after a burn-in that forgets the zero start. */
export function simulateArma(rng: TestRng, spec: ArmaSpec): Float64Array {
  const { phi, theta = [], mean = 0, sigma = 1, n } = spec;
  const burn = 200;
  const x = new Float64Array(n + burn);
  const e = new Float64Array(n + burn);
  for (let t = 0; t < n + burn; t++) {
    e[t] = sigma * rng.normal();
    let v = e[t]!;
    for (let i = 0; i < phi.length; i++) if (t - 1 - i >= 0) v += phi[i]! * x[t - 1 - i]!;
    for (let j = 0; j < theta.length; j++) if (t - 1 - j >= 0) v += theta[j]! * e[t - 1 - j]!;
    x[t] = v;
  }
  return x.subarray(burn).map((v) => v + mean);
}

/** The d-times cumulative sum of x starting from `start` (an integrated series whose d-th difference is x). */
export function integrate(x: Float64Array, d: number, start = 0): Float64Array {
  let series = Float64Array.from(x);
  for (let pass = 0; pass < d; pass++) {
    const next = new Float64Array(series.length + 1);
    next[0] = start;
    for (let i = 0; i < series.length; i++) next[i + 1] = next[i]! + series[i]!;
    series = next;
  }
  return series;
}
