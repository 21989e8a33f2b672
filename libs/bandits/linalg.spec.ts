import { addOuter, invertSpd, matVec, shermanMorrison, solveSpdSteps, symQuadForm } from './linalg.js';
import { finish } from './steps.js';
import { createRng } from './prng.js';

describe('float64 kernels', () => {
  const d = 16;
  const rng = createRng(11);
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) A[i * d + i] = 1;
  for (let t = 0; t < 50; t++)
    addOuter(
      A,
      Float64Array.from({ length: d }, () => rng.normal()),
      d,
    );

  it('invertSpd gives A·A⁻¹ = I', () => {
    const inv = invertSpd(A, d);
    const col = new Float64Array(d);
    const e = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      e.fill(0);
      e[j] = 1;
      matVec(A, matVec(inv, e, d, new Float64Array(d)), d, col);
      for (let i = 0; i < d; i++) expect(col[i]).toBeCloseTo(i === j ? 1 : 0, 10);
    }
  });

  it('invertSpd equals the textbook column form of L⁻ᵀL⁻¹, bit for bit', () => {
    // The plain definition: L⁻¹ by rows, reading its columns (what invertFromCholesky computes on L⁻ᵀ's rows).
    const textbook = (M: Float64Array, n: number) => {
      const L = M.slice();
      for (let j = 0; j < n; j++) {
        let s = L[j * n + j];
        for (let k = 0; k < j; k++) s -= L[j * n + k] * L[j * n + k];
        L[j * n + j] = Math.sqrt(s);
        for (let i = j + 1; i < n; i++) {
          let t = L[i * n + j];
          for (let k = 0; k < j; k++) t -= L[i * n + k] * L[j * n + k];
          L[i * n + j] = t / L[j * n + j];
        }
      }
      const Li = new Float64Array(n * n);
      const out = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        Li[i * n + i] = 1 / L[i * n + i];
        for (let j = 0; j < i; j++) {
          let s = 0;
          for (let k = j; k < i; k++) s -= L[i * n + k] * Li[k * n + j];
          Li[i * n + j] = s / L[i * n + i];
        }
      }
      for (let i = 0; i < n; i++)
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let k = i; k < n; k++) s += Li[k * n + i] * Li[k * n + j];
          out[i * n + j] = out[j * n + i] = s;
        }
      return out;
    };
    for (const n of [1, 2, 7, 33]) {
      const M = new Float64Array(n * n);
      for (let i = 0; i < n; i++) M[i * n + i] = 1;
      for (let t = 0; t < 3 * n; t++)
        addOuter(
          M,
          Float64Array.from({ length: n }, () => rng.normal()),
          n,
        );
      expect(Array.from(invertSpd(M, n))).toEqual(Array.from(textbook(M, n)));
    }
  });

  it('symQuadForm equals xᵀ(Mx)', () => {
    const x = Float64Array.from({ length: d }, () => rng.normal());
    const Mx = matVec(A, x, d, new Float64Array(d));
    const full = x.reduce((s, v, i) => s + v * Mx[i], 0);
    expect(symQuadForm(A, x, d)).toBeCloseTo(full, 9);
  });

  it('Sherman–Morrison matches a fresh inverse after 2000 updates (relative drift < 1e-9)', () => {
    const M = Float64Array.from(A);
    const inv = invertSpd(M, d);
    const z = new Float64Array(d);
    for (let t = 0; t < 2000; t++) {
      const x = Float64Array.from({ length: d }, () => rng.normal());
      addOuter(M, x, d);
      shermanMorrison(inv, x, d, z);
    }
    const fresh = invertSpd(M, d);
    let err = 0;
    let mag = 0;
    for (let i = 0; i < d * d; i++) {
      err = Math.max(err, Math.abs(fresh[i] - inv[i]));
      mag = Math.max(mag, Math.abs(fresh[i]));
    }
    expect(err / mag).toBeLessThan(1e-9);
  });

  it('recovers from a rank-deficient matrix with jitter instead of throwing', () => {
    const S = new Float64Array(4);
    S[0] = 1;
    S[1] = 1;
    S[2] = 1;
    S[3] = 1;
    expect(() => invertSpd(S, 2)).not.toThrow();
  });

  it('refuses a matrix with a non-finite diagonal instead of answering zeros', () => {
    expect(() => invertSpd(Float64Array.of(Infinity, 0, 0, -1), 2)).toThrow(/non-finite/);
    expect(() => invertSpd(Float64Array.of(Number.NaN, 0, 0, 1), 2)).toThrow();
  });

  it('inverts λI + n·xxᵀ whose λ vanishes in rounding (caller features of 10⁶, 10,000 times)', () => {
    // Eigenvalues λ = 1 (three times) and 1 + n|x|² = 4·10¹⁶: an absolute jitter up to 0.1 never factorises it.
    const x = Float64Array.of(1e6, 1e6, 1e6, 1e6);
    const M = new Float64Array(16);
    for (let i = 0; i < 4; i++) M[i * 4 + i] = 1;
    for (let k = 0; k < 10_000; k++) addOuter(M, x, 4);
    const inv = invertSpd(M, 4);
    expect(inv.every(Number.isFinite)).toBe(true);
    // A⁻¹x = x / (1 + n|x|²) (to 1 %: the condition number is 4·10¹⁶): the direction the data pinned down keeps its tiny width.
    const z = new Float64Array(4);
    matVec(inv, x, 4, z);
    for (let i = 0; i < 4; i++) expect(z[i] / (x[i] / (1 + 10_000 * 4e12))).toBeCloseTo(1, 2);
  });

  it('solves A x = b through the Cholesky factor as A⁻¹b does, several right-hand sides at once', () => {
    // the suite's A (16×16, SPD)
    const rhs = createRng(17);
    const bs = [0, 1].map(() => Float64Array.from({ length: d }, () => rhs.normal()));
    const xs = finish(solveSpdSteps(A, d, bs));
    const inv = invertSpd(A, d);
    bs.forEach((b, k) => {
      const want = matVec(inv, b, d, new Float64Array(d));
      for (let i = 0; i < d; i++) expect(Math.abs(xs[k][i] - want[i])).toBeLessThan(1e-9 * (1 + Math.abs(want[i])));
    });
  });
});
