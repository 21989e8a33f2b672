import { type Decision } from './decision.js';
import { type LinearModel } from './linear-model.js';
import { linearEstimates } from './linucb.js';
import { decideBySampling, mixEpsilon, sampleWithEpsilon } from './monte-carlo-propensity.js';
import { type Rng } from './prng.js';

export interface LinTsParams {
  /** Posterior scale v: θ̃_a ~ N(θ̂_a, v²A_a⁻¹). v is the reward noise SD for the exact Bayesian posterior. */
  v: number;
  epsilon: number;
  /** Extra posterior draws used to estimate the logged propensity (ALGORITHMS.md §12). */
  propensityDraws: number;
}

/**
 * Linear Thompson sampling (ALGORITHMS.md §2b) on the same statistics as LinUCB. For one context, θ̃ᵀx with
 * θ̃ ~ N(θ̂, v²A⁻¹) is exactly N(θ̂ᵀx, v²‖x‖²_{A⁻¹}), and arms are independent, so a decision draws one normal per
 * arm around the scalarised mean with sd v·‖x‖_{A⁻¹} (no Cholesky, no A⁻¹ formed beyond the compiled one; the
 * spread is the posterior's, with none of the extra σ² shrink GreenServ's code applies). Arms never pulled and
 * without a prior go first, at random (pitfall 1: a small v would otherwise starve a new model).
 */
export function decideLinTs(model: LinearModel, x: Float64Array, candidates: readonly number[], params: LinTsParams, rng: Rng): Decision {
  const n = candidates.length;
  const estimates = linearEstimates(model, x, candidates, true);
  const untried: number[] = [];
  for (let c = 0; c < n; c++) {
    const arm = model.arms[candidates[c]];
    if (arm.pulls + arm.pseudo === 0) untried.push(c);
  }
  if (untried.length > 0) {
    const pick = sampleWithEpsilon(untried[rng.int(untried.length)], n, params.epsilon, rng);
    // Reported as an optimistic unit bonus on the untried arms (finite: estimates are logged as JSON).
    estimates.forEach((e, c) => {
      e.bonus = untried.includes(c) ? 1 : 0;
      e.score = e.mean + e.bonus;
    });
    const p = untried.includes(pick) ? 1 / untried.length : 0;
    return { arm: candidates[pick], propensity: mixEpsilon(p, params.epsilon, n), estimates };
  }
  const means = estimates.map((e) => e.mean);
  const widths = estimates.map((e) => params.v * e.bonus);
  const draw = (out: Float64Array): void => {
    for (let c = 0; c < n; c++) out[c] = means[c] + widths[c] * rng.normal();
  };
  return decideBySampling(estimates, candidates, draw, params, rng);
}
