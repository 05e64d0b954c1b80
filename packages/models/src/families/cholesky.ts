// Small dense symmetric positive-definite solves (the normal equations of lag regressions, Gauss-Newton steps).
// Matrices are row-major k x k Float64Arrays owned by the caller, so a fit allocates nothing here.

/**
 * Factors the k x k matrix `a` in place into its lower Cholesky factor and returns -1, or returns the index of
 * the first column whose pivot fell below `relativeTolerance` times its original diagonal (the column is then,
 * to working precision, a linear combination of the ones before it; `a` is left partly factored).
 */
export function choleskyInPlace(a: Float64Array, k: number, relativeTolerance: number): number {
  for (let j = 0; j < k; j++) {
    const diagonal = a[j * k + j]!;
    let pivot = diagonal;
    for (let m = 0; m < j; m++) pivot -= a[j * k + m]! * a[j * k + m]!;
    if (!(pivot > relativeTolerance * diagonal) || !(pivot > 0)) return j;
    const root = Math.sqrt(pivot);
    a[j * k + j] = root;
    for (let i = j + 1; i < k; i++) {
      let sum = a[i * k + j]!;
      for (let m = 0; m < j; m++) sum -= a[i * k + m]! * a[j * k + m]!;
      a[i * k + j] = sum / root;
    }
  }
  return -1;
}

/** Solves L Lᵀ x = b in place in `b`, with L the factor `choleskyInPlace` left in `l`. */
export function choleskySolveInPlace(l: Float64Array, k: number, b: Float64Array): void {
  for (let i = 0; i < k; i++) {
    let sum = b[i]!;
    for (let m = 0; m < i; m++) sum -= l[i * k + m]! * b[m]!;
    b[i] = sum / l[i * k + i]!;
  }
  for (let i = k - 1; i >= 0; i--) {
    let sum = b[i]!;
    for (let m = i + 1; m < k; m++) sum -= l[m * k + i]! * b[m]!;
    b[i] = sum / l[i * k + i]!;
  }
}
