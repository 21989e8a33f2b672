import { type Decision } from './decision.js';
import { type LinearModel } from './linear-model.js';
import { decideLinear } from './linucb.js';
import { type Rng } from './prng.js';

/**
 * Linear ε-greedy: the arm with the best scalarised ridge prediction with probability 1−ε, a uniform one
 * otherwise. A baseline (GreenServ's "linear ε-greedy", ALGORITHMS.md §4); no optimism for untried arms.
 */
export function decideEpsilonGreedy(model: LinearModel, x: Float64Array, candidates: readonly number[], params: { epsilon: number }, rng: Rng): Decision {
  return decideLinear(model, x, candidates, 0, params.epsilon, rng);
}
