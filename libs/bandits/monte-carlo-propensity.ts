import { type ArmEstimate, type Decision } from './decision.js';
import { type Rng } from './prng.js';

/**
 * Probability that a sampling policy picks candidate `chosen` (ALGORITHMS.md §2, §12: Thompson sampling has no
 * closed-form propensity). `drawScores` fills one fresh set of sampled scores. The draw that made the decision
 * counts as one more sample (`decisiveDrawWon`), so a policy pick never gets propensity 0:
 * p̂ = (wins + 𝟙[decisive draw won]) / (draws + 1).
 */
export function monteCarloPropensity(n: number, chosen: number, draws: number, drawScores: (out: Float64Array) => void, decisiveDrawWon: boolean): number {
  const s = new Float64Array(n);
  let wins = decisiveDrawWon ? 1 : 0;
  for (let m = 0; m < draws; m++) {
    drawScores(s);
    let best = 0;
    for (let i = 1; i < n; i++) if (s[i] > s[best]) best = i;
    if (best === chosen) wins++;
  }
  return wins / (draws + 1);
}

/** A sampled policy's pick, ε-mixed: with probability ε a uniform candidate replaces it. */
export function sampleWithEpsilon(policyPick: number, n: number, epsilon: number, rng: Rng): number {
  return epsilon > 0 && rng.next() < epsilon ? rng.int(n) : policyPick;
}

/** P(returned) under ε-mixing, given the sampling policy's own probability of returning it. */
export const mixEpsilon = (pPolicy: number, epsilon: number, n: number): number => (1 - epsilon) * pPolicy + epsilon / n;

/**
 * The shared end of every sampling policy: one draw decides (each estimate reports its sampled score, and the
 * sample's distance from the mean as its bonus), ε-mixing, then the Monte Carlo propensity of what is returned.
 * `draw` must not read `estimates` (they are overwritten here).
 */
export function decideBySampling(
  estimates: ArmEstimate[],
  candidates: readonly number[],
  draw: (out: Float64Array) => void,
  params: { epsilon: number; propensityDraws: number },
  rng: Rng,
): Decision {
  const n = candidates.length;
  const sampled = new Float64Array(n);
  draw(sampled);
  const policyPick = argmax(sampled, n);
  for (let c = 0; c < n; c++) {
    estimates[c].score = sampled[c];
    estimates[c].bonus = sampled[c] - estimates[c].mean;
  }
  const pick = sampleWithEpsilon(policyPick, n, params.epsilon, rng);
  const p = monteCarloPropensity(n, pick, params.propensityDraws, draw, pick === policyPick);
  return { arm: candidates[pick], propensity: mixEpsilon(p, params.epsilon, n), estimates };
}

/** Index of the largest value (first on ties: sampled scores tie with probability 0). */
export function argmax(v: ArrayLike<number>, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[i] > v[best]) best = i;
  return best;
}
