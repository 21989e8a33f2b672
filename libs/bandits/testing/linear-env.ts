import { type Rng } from '../prng.js';

const { hypot, sqrt } = Math;

/**
 * The synthetic environment of ALGORITHMS.md §15 L1 (and D1, T1, P1): K arms, d = 6, x = (1, z) with
 * z ~ N(0, I₅) normalised to ‖x‖ = 1, θ_a ~ N(0, I/d), r = θ_aᵀx + N(0, σ²). Test support only.
 */
export interface LinearEnv {
  d: number;
  k: number;
  theta: Float64Array[];
  context(rng: Rng): Float64Array;
  expected(a: number, x: Float64Array): number;
  reward(a: number, x: Float64Array, rng: Rng): number;
}

export function makeLinearEnv(k: number, d: number, noise: number, rng: Rng): LinearEnv {
  const theta = Array.from({ length: k }, () => {
    const t = new Float64Array(d);
    for (let i = 0; i < d; i++) t[i] = rng.normal() / sqrt(d);
    return t;
  });
  const expected = (a: number, x: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < d; i++) s += theta[a][i] * x[i];
    return s;
  };
  return {
    d,
    k,
    theta,
    context: (r) => {
      const x = new Float64Array(d);
      x[0] = 1;
      for (let i = 1; i < d; i++) x[i] = r.normal();
      const n = hypot(...x);
      for (let i = 0; i < d; i++) x[i] /= n;
      return x;
    },
    expected,
    reward: (a, x, r) => expected(a, x) + noise * r.normal(),
  };
}
