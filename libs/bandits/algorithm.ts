import { type Decision } from './decision.js';
import { decideEpsilonGreedy } from './epsilon-greedy.js';
import { type LinearModel } from './linear-model.js';
import { decideLinUcb } from './linucb.js';
import { type Rng } from './prng.js';
import { decideRandom } from './random-policy.js';

export const ALGORITHMS = ['linucb', 'epsilon-greedy', 'random'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export interface AlgorithmParams {
  alpha: number;
  ridge: number;
  epsilon: number;
}

/** Default hyper-parameters per algorithm (α = λ_reg = 1 passes L3; ε = 0.02 is the logging floor). */
export function defaultParams(algorithm: Algorithm): AlgorithmParams {
  switch (algorithm) {
    case 'linucb':
      return { alpha: 1, ridge: 1, epsilon: 0.02 };
    case 'epsilon-greedy':
      return { alpha: 0, ridge: 1, epsilon: 0.1 };
    case 'random':
      return { alpha: 0, ridge: 1, epsilon: 1 };
  }
}

/** One decision of any supported algorithm over the same compiled linear statistics. */
export function decide(
  algorithm: Algorithm,
  model: LinearModel,
  x: Float64Array,
  candidates: readonly number[],
  params: AlgorithmParams,
  rng: Rng,
): Decision {
  switch (algorithm) {
    case 'linucb':
      return decideLinUcb(model, x, candidates, params, rng);
    case 'epsilon-greedy':
      return decideEpsilonGreedy(model, x, candidates, params, rng);
    case 'random':
      return decideRandom(model, x, candidates, rng);
  }
}
