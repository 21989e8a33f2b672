import { decideBetaTs } from './beta-ts.js';
import { type Decision } from './decision.js';
import { decideEpsilonGreedy } from './epsilon-greedy.js';
import { decideLinTs } from './lin-ts.js';
import { type LinearModel } from './linear-model.js';
import { decideLinUcb } from './linucb.js';
import { type Rng } from './prng.js';
import { decideRandom } from './random-policy.js';

/** Policies that decide from the shared additive linear statistics (ArmStats → LinearModel). */
export const ALGORITHMS = ['linucb', 'lin-ts', 'beta-ts', 'epsilon-greedy', 'random'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/**
 * Every policy algorithm: the one list the policy schema (`@app/contracts`), the replay CLI and the decision
 * function read. fgts-cdb and ti-ucb keep order-dependent state (an SGLD chain, sliding windows and a change
 * detector, ALGORITHMS.md §11): each replica rebuilds it from the durable log of learned events; they still keep
 * the additive statistics for the energy, cost and latency heads.
 */
export const POLICY_ALGORITHMS = ['linucb', 'lin-ts', 'beta-ts', 'fgts-cdb', 'ti-ucb', 'epsilon-greedy', 'random'] as const;
export type PolicyAlgorithm = (typeof POLICY_ALGORITHMS)[number];

export const isLinearAlgorithm = (a: PolicyAlgorithm): a is Algorithm => (ALGORITHMS as readonly string[]).includes(a);

export interface AlgorithmParams {
  /** LinUCB's width multiplier α; for lin-ts the posterior scale v. */
  alpha: number;
  ridge: number;
  epsilon: number;
  /** Extra posterior draws for the Monte Carlo propensity of the sampling policies. */
  propensityDraws: number;
}

/**
 * Default hyper-parameters per algorithm. α = λ_reg = 1 passes L3; ε = 0.02 is the logging floor. lin-ts: v = 0.25,
 * about the noise of thumbs-style rewards; its width is v·‖x‖_{A⁻¹} (the exact posterior), see the replay table.
 * fgts-cdb and ti-ucb read only the ridge (for their linear heads).
 */
const DEFAULT_PARAMS: Readonly<Record<PolicyAlgorithm, Readonly<AlgorithmParams>>> = {
  'fgts-cdb': { alpha: 0, ridge: 1, epsilon: 0, propensityDraws: 0 },
  'ti-ucb': { alpha: 0, ridge: 1, epsilon: 0, propensityDraws: 0 },
  linucb: { alpha: 1, ridge: 1, epsilon: 0.02, propensityDraws: 0 },
  'lin-ts': { alpha: 0.25, ridge: 1, epsilon: 0.02, propensityDraws: 100 },
  'beta-ts': { alpha: 0, ridge: 1, epsilon: 0.02, propensityDraws: 100 },
  'epsilon-greedy': { alpha: 0, ridge: 1, epsilon: 0.1, propensityDraws: 0 },
  random: { alpha: 0, ridge: 1, epsilon: 1, propensityDraws: 0 },
};

export const defaultParams = (algorithm: PolicyAlgorithm): AlgorithmParams => ({ ...DEFAULT_PARAMS[algorithm] });

/**
 * One decision of a linear algorithm over the compiled statistics. The service and the replay reach it through
 * `decidePolicy` (`@app/learning`), which also serves fgts-cdb, ti-ucb and duels.
 */
export function decide(algorithm: Algorithm, model: LinearModel, x: Float64Array, candidates: readonly number[], params: AlgorithmParams, rng: Rng): Decision {
  switch (algorithm) {
    case 'linucb':
      return decideLinUcb(model, x, candidates, params, rng);
    case 'lin-ts':
      return decideLinTs(model, x, candidates, { v: params.alpha, epsilon: params.epsilon, propensityDraws: params.propensityDraws }, rng);
    case 'beta-ts':
      return decideBetaTs(model, x, candidates, params, rng);
    case 'epsilon-greedy':
      return decideEpsilonGreedy(model, x, candidates, params, rng);
    case 'random':
      return decideRandom(model, x, candidates, rng);
  }
}
