import { finish, type Steps } from './steps.js';

const { abs, max, sqrt } = Math;
/**
 * Dense float64 kernels over row-major d×d `Float64Array`s. Float64 only: a Sherman–Morrison inverse kept in
 * float32 drifts by 4e-4 after 20k updates (ALGORITHMS.md §1, pitfall 2). Callers pass `out` buffers so the hot
 * path allocates nothing.
 */

export function dot(a: Float64Array, b: Float64Array, d: number, offB = 0): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += a[i] * b[offB + i];
  return s;
}

/** xᵀMx for a symmetric M, reading only the upper triangle (half the multiplications of a full matvec). */
export function symQuadForm(M: Float64Array, x: Float64Array, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * d;
    let acc = 0;
    for (let j = i + 1; j < d; j++) acc += M[row + j] * x[j];
    s += xi * (M[row + i] * xi + 2 * acc);
  }
  return s;
}

/** out = M·x for a d×d M. */
export function matVec(M: Float64Array, x: Float64Array, d: number, out: Float64Array): Float64Array {
  for (let i = 0; i < d; i++) {
    let s = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) s += M[row + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** M += w·x xᵀ (full matrix, kept exactly symmetric). */
export function addOuter(M: Float64Array, x: ArrayLike<number>, d: number, w = 1): void {
  for (let i = 0; i < d; i++) {
    const xi = w * x[i];
    if (xi === 0) continue;
    const row = i * d;
    for (let j = 0; j < d; j++) M[row + j] += xi * x[j];
  }
}

/**
 * In-place Cholesky factorisation A = L Lᵀ of a symmetric positive-definite matrix; L is left in the lower
 * triangle. Returns false if A is not numerically positive definite.
 */
export function choleskyInPlace(A: Float64Array, d: number): boolean {
  return finish(choleskySteps(A, d));
}

/** choleskyInPlace in steps: one per column of L. */
function* choleskySteps(A: Float64Array, d: number): Steps<boolean> {
  for (let j = 0; j < d; j++) {
    yield;
    let s = A[j * d + j];
    for (let k = 0; k < j; k++) s -= A[j * d + k] * A[j * d + k];
    if (!(s > 0)) return false;
    const ljj = sqrt(s);
    A[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = A[i * d + j];
      for (let k = 0; k < j; k++) t -= A[i * d + k] * A[j * d + k];
      A[i * d + j] = t / ljj;
    }
  }
  return true;
}

/**
 * Inverse of a symmetric positive-definite matrix through its Cholesky factor. Symmetrises the input first and,
 * if the factorisation fails, retries with growing jitter (then ×100) as ALGORITHMS.md §1 recommends. The first
 * jitter is 1e-9·I or 1e-13 of the largest diagonal entry, whichever is larger: with large contexts (caller
 * features up to 10⁶) the sums of xxᵀ reach 10¹⁶ and more, where λI vanishes in rounding and an absolute jitter
 * of any size that leaves small matrices alone would never make the factorisation succeed.
 */
export function invertSpd(A: Float64Array, d: number, out: Float64Array = new Float64Array(d * d)): Float64Array {
  return finish(invertSpdSteps(A, d, out));
}

/** invertSpd in steps: one per column of the factor and per row of each half of the inverse (O(d²) work each). */
export function* invertSpdSteps(A: Float64Array, d: number, out: Float64Array = new Float64Array(d * d)): Steps<Float64Array> {
  return yield* invertFromCholesky(yield* choleskyWithJitterSteps(A, d), d, out);
}

/**
 * x = A⁻¹b for each b of `bs` (into new arrays), A symmetric positive-definite, through the Cholesky factor that
 * invertSpd takes (with its jitter): a third of an inversion's work when only a few products are needed.
 */
export function* solveSpdSteps(A: Float64Array, d: number, bs: readonly Float64Array[]): Steps<Float64Array[]> {
  const L = yield* choleskyWithJitterSteps(A, d);
  return bs.map((b) => {
    const y = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let t = b[i];
      for (let k = 0; k < i; k++) t -= L[i * d + k] * y[k];
      y[i] = t / L[i * d + i];
    }
    for (let i = d - 1; i >= 0; i--) {
      let t = y[i];
      for (let k = i + 1; k < d; k++) t -= L[k * d + i] * y[k];
      y[i] = t / L[i * d + i];
    }
    return y;
  });
}

/** The lower Cholesky factor of the symmetrised A, with the jitter invertSpd describes when A is not quite SPD. */
function* choleskyWithJitterSteps(A: Float64Array, d: number): Steps<Float64Array> {
  const L = new Float64Array(d * d);
  let largest = 0;
  for (let i = 0; i < d; i++) largest = max(largest, abs(A[i * d + i]));
  // An infinite jitter would "factorise" anything into an inverse of zeros.
  if (!Number.isFinite(largest)) throw new Error('matrix has a non-finite diagonal');
  let jitter = 0;
  for (let attempt = 0; attempt < 6; attempt++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) L[i * d + j] = 0.5 * (A[i * d + j] + A[j * d + i]);
      L[i * d + i] += jitter;
    }
    if (yield* choleskySteps(L, d)) return L;
    jitter = jitter === 0 ? max(1e-9, 1e-13 * largest) : jitter * 100;
  }
  throw new Error('matrix is not positive definite even with jitter');
}

/**
 * A⁻¹ = L⁻ᵀ L⁻¹ from the lower-triangular factor L. L⁻¹ is kept transposed (U = L⁻ᵀ, row j of U = column j of
 * L⁻¹), so every inner loop reads two rows in order; the same sums in the same order as the textbook column form.
 */
function* invertFromCholesky(L: Float64Array, d: number, out: Float64Array): Steps<Float64Array> {
  const U = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    yield;
    const uj = j * d;
    U[uj + j] = 1 / L[j * d + j];
    for (let i = j + 1; i < d; i++) {
      const li = i * d;
      let s = 0;
      for (let k = j; k < i; k++) s -= L[li + k] * U[uj + k];
      U[uj + i] = s / L[li + i];
    }
  }
  for (let i = 0; i < d; i++) {
    yield;
    const ui = i * d;
    for (let j = 0; j <= i; j++) {
      const uj = j * d;
      let s = 0;
      for (let k = i; k < d; k++) s += U[ui + k] * U[uj + k];
      out[ui + j] = s;
      out[uj + i] = s;
    }
  }
  return out;
}

/**
 * Sherman–Morrison rank-1 update of a cached inverse: (A + x xᵀ)⁻¹ = A⁻¹ − z zᵀ / (1 + xᵀz), z = A⁻¹x.
 * `z` is a scratch buffer of length d; returns 1 + xᵀz.
 */
export function shermanMorrison(Ainv: Float64Array, x: Float64Array, d: number, z: Float64Array): number {
  matVec(Ainv, x, d, z);
  const denom = 1 + dot(x, z, d);
  const k = 1 / denom;
  for (let i = 0; i < d; i++) {
    const zi = z[i] * k;
    const row = i * d;
    for (let j = 0; j < d; j++) Ainv[row + j] -= zi * z[j];
  }
  return denom;
}
