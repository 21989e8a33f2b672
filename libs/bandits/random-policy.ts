import { type Decision } from './decision.js';
import { type LinearModel } from './linear-model.js';
import { linearEstimates } from './linucb.js';
import { type Rng } from './prng.js';

/**
 * Uniform random routing: the reference every learning policy must beat. Propensity 1/|candidates|; the heads'
 * predictions are reported, the score is the pick probability.
 */
export function decideRandom(model: LinearModel, x: Float64Array, candidates: readonly number[], rng: Rng): Decision {
  const n = candidates.length;
  const arm = candidates[rng.int(n)];
  const estimates = linearEstimates(model, x, candidates, false);
  for (const e of estimates) {
    e.mean = 0;
    e.score = 1 / n;
  }
  return { arm, propensity: 1 / n, estimates };
}
