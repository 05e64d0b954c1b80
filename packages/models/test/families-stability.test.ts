// The step-down stationarity test against the closed-form AR(2) region, and the damping that repairs
// starting values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dampUntilStable, isStable } from '../src/families/polynomial-stability.js';
import { TestRng } from './families-series.js';

test('isStable agrees with the AR(2) stationarity triangle', () => {
  const rng = new TestRng(2024);
  const scratch = new Float64Array(4);
  for (let i = 0; i < 2000; i++) {
    const phi1 = rng.between(-2.2, 2.2);
    const phi2 = rng.between(-1.2, 1.2);
    // x[t] = phi1 x[t-1] + phi2 x[t-2] is stationary iff |phi2| < 1, phi1 + phi2 < 1, phi2 - phi1 < 1.
    const inside = Math.abs(phi2) < 1 && phi1 + phi2 < 1 && phi2 - phi1 < 1;
    const margin = Math.min(1 - Math.abs(phi2), 1 - phi1 - phi2, 1 - phi2 + phi1);
    if (Math.abs(margin) < 1e-6) continue;
    assert.equal(isStable(Float64Array.of(phi1, phi2), 0, 2, 1, scratch), inside, `phi = (${phi1}, ${phi2})`);
    // The MA polynomial 1 + theta_1 z + theta_2 z^2 is invertible iff (-theta_1, -theta_2) is stationary.
    assert.equal(isStable(Float64Array.of(-phi1, -phi2), 0, 2, -1, scratch), inside, `theta = (${-phi1}, ${-phi2})`);
  }
});

test('dampUntilStable pulls explosive and unit-root polynomials inside', () => {
  const scratch = new Float64Array(8);
  for (const coefficients of [[1.2], [1], [0.5, 0.6], [2.5, -1.4, 0.3], [0.3, 0.3, 0.3, 0.3]]) {
    const a = Float64Array.from(coefficients);
    dampUntilStable(a, 0, a.length, 1, scratch);
    assert.ok(isStable(a, 0, a.length, 1, scratch), `${coefficients} -> ${Array.from(a)}`);
  }
  const already = Float64Array.of(0.5, -0.2);
  dampUntilStable(already, 0, 2, 1, scratch);
  assert.deepEqual(Array.from(already), [0.5, -0.2]);
});
