import { type Decision } from './decision.js';
import { type LinearModel, predictHead } from './linear-model.js';
import { type Rng } from './prng.js';

/** Uniform random routing: the reference every learning policy must beat. Propensity 1/|candidates|. */
export function decideRandom(model: LinearModel, x: Float64Array, candidates: readonly number[], rng: Rng): Decision {
  const n = candidates.length;
  const arm = candidates[rng.int(n)];
  const estimates = candidates.map((a) => {
    const m = model.arms[a];
    return {
      arm: a,
      quality: predictHead(m, x, model.d, 0),
      energy: predictHead(m, x, model.d, 1),
      cost: predictHead(m, x, model.d, 2),
      latency: predictHead(m, x, model.d, 3),
      mean: 0,
      bonus: 0,
      score: 1 / n,
    };
  });
  return { arm, propensity: 1 / n, estimates };
}
