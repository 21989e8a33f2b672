import { DEFAULT_FGTS, denseSpace, FgtsSampler, type DenseContext, type FgtsParams, type PreferenceRecord } from '../fgts-cdb.js';
import { createRng } from '../prng.js';

const { exp, hypot, max } = Math;

/**
 * ALGORITHMS.md §7 F1: d = 5, K = 10 options with fresh unit-norm features every round, ‖θ*‖ = 2, Bradley–Terry
 * preferences, regret per round (2·max u − u(a¹) − u(a²))/2. `random` plays uniform random pairs.
 */
export function runF1(seed: number, opts: { T?: number; random?: boolean; params?: Partial<FgtsParams> } = {}): { regret: number; half: number } {
  const T = opts.T ?? 2000;
  const K = 10;
  const d = 5;
  const rng = createRng(60_000 + seed);
  const star = Float64Array.from({ length: d }, () => rng.normal());
  const norm = hypot(...star);
  for (let i = 0; i < d; i++) star[i] *= 2 / norm;
  const sampler = new FgtsSampler(denseSpace(d), { ...DEFAULT_FGTS, ...opts.params });
  const records: PreferenceRecord<DenseContext>[] = [];
  const all = Array.from({ length: K }, (_, i) => i);
  let regret = 0;
  let half = 0;
  for (let t = 0; t < T; t++) {
    const phi = new Float64Array(K * d);
    const u = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let n = 0;
      for (let i = 0; i < d; i++) {
        phi[k * d + i] = rng.normal();
        n += phi[k * d + i] ** 2;
      }
      n = Math.sqrt(n);
      for (let i = 0; i < d; i++) {
        phi[k * d + i] /= n;
        u[k] += phi[k * d + i] * star[i];
      }
    }
    const ctx = { phi, k: K };
    let a: number;
    let b: number;
    if (opts.random) {
      a = rng.int(K);
      b = rng.int(K);
    } else {
      sampler.advance(records, rng);
      const pair = sampler.pair(ctx, all, false);
      a = pair.first;
      b = pair.second;
    }
    let best = -Infinity;
    for (let k = 0; k < K; k++) best = max(best, u[k]);
    regret += (2 * best - u[a] - u[b]) / 2;
    if (t === T / 2 - 1) half = regret;
    const pWin = 1 / (1 + exp(-(u[a] - u[b])));
    records.push({ ctx, a, b, p: rng.next() < pWin ? 1 : 0 });
  }
  return { regret, half };
}
