import { type Decision } from './decision.js';
import { sampleBeta } from './distributions.js';
import { type LinearModel } from './linear-model.js';
import { linearEstimates } from './linucb.js';
import { decideBySampling } from './monte-carlo-propensity.js';
import { headIndex } from './objective.js';
import { type Rng } from './prng.js';

const { max } = Math;

export interface BetaTsParams {
  epsilon: number;
  propensityDraws: number;
}

/** Beta(1 + Σr, 1 + n − Σr) posterior of an arm's mean quality: fractional rewards add r and 1 − r (§2a). */
export function betaCounts(obs: number, sum: number): [number, number] {
  return [1 + sum, 1 + max(0, obs - sum)];
}

/**
 * Beta–Bernoulli Thompson sampling (ALGORITHMS.md §2a), non-contextual: per arm θ̃ ~ Beta(α, β) from the quality
 * head's counts (plain sums, so replicas merge by addition). Other objective heads enter as their current
 * (context-dependent) mean penalty, score = w_q·θ̃ + (scalarised mean − w_q·quality mean), so operator weights
 * work as for every other policy. Propensity by Monte Carlo.
 */
export function decideBetaTs(model: LinearModel, x: Float64Array, candidates: readonly number[], params: BetaTsParams, rng: Rng): Decision {
  const n = candidates.length;
  const estimates = linearEstimates(model, x, candidates, false);
  const wq = model.weights.quality;
  const counts = candidates.map((a) => betaCounts(model.arms[a].obs[headIndex.quality], model.arms[a].qualitySum));
  const rest = estimates.map((e) => e.mean - wq * e.quality);
  const draw = (out: Float64Array): void => {
    for (let c = 0; c < n; c++) out[c] = wq * sampleBeta(counts[c][0], counts[c][1], rng) + rest[c];
  };
  // Report the posterior mean quality (the linear head is not what this policy samples).
  estimates.forEach((e, c) => {
    const [a, b] = counts[c];
    e.quality = a / (a + b);
    e.mean = wq * e.quality + rest[c];
  });
  return decideBySampling(estimates, candidates, draw, params, rng);
}
