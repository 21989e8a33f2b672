import { type ArmStats, compileArm, emptyArmStats, headIndex, recordDecision, recordObservation } from '@app/bandits';

export interface PriorObservation {
  arm: number;
  x: Float64Array;
  r: number;
}

export interface FittedArmPrior {
  theta: Float64Array;
  weight: number;
  records: number;
}

/** λ of the offline fit: θ⁰ = (I + Σxxᵀ)⁻¹Σ r x. */
const PRIOR_FIT = { ridge: 1, priorWeight: 0 };

/**
 * Adds offline observations to per-arm statistics (`stats[arm]`, created empty at dimension d on first use), one
 * observation after the other: Σxxᵀ, Σ r x and n of the quality head. Continuing from statistics stored after
 * earlier observations gives exactly (bit for bit) the sums of one pass over all of them in the same order, which
 * is what makes a prior uploaded in several calls equal to one uploaded at once.
 */
export function accumulatePrior(stats: (ArmStats | undefined)[], d: number, obs: readonly PriorObservation[]): (ArmStats | undefined)[] {
  for (const { arm, x, r } of obs) {
    const s = (stats[arm] ??= emptyArmStats(d));
    recordDecision(s, x);
    recordObservation(s, x, headIndex.quality, r);
  }
  return stats;
}

/**
 * PILOT-style prior from offline outcomes (ALGORITHMS.md §3) given their per-arm statistics: per arm the ridge fit
 * θ⁰ = (I + Σxxᵀ)⁻¹Σ r x of the offline scores on the policy's own features (the quality head of compileArm),
 * worth w = min(maxWeight, n) pseudo-observations, so a prior never counts for more than its data nor beyond the
 * cap. Arms without offline data get the mean θ⁰ of the others with weight 0, i.e. a cold arm's precision (§3
 * "new model"): the guess moves the mean, the exploration bonus stays that of an untried arm, so the model is
 * never starved (§1 pitfall 1).
 */
export function fitPriorStats(stats: readonly (ArmStats | undefined)[], d: number, maxWeight: number): (FittedArmPrior | null)[] {
  const fitted: (FittedArmPrior | null)[] = Array.from(stats, (s) => {
    if (!s || s.pulls === 0) return null;
    const q = headIndex.quality;
    const theta = compileArm(d, s, {}, false, PRIOR_FIT).theta.slice(q * d, (q + 1) * d);
    return { theta, weight: Math.min(maxWeight, s.pulls), records: s.pulls };
  });
  const known = fitted.filter((f): f is FittedArmPrior => f !== null);
  if (known.length === 0) return fitted;
  const mean = new Float64Array(d);
  for (const f of known) for (let i = 0; i < d; i++) mean[i] += f.theta[i] / known.length;
  return fitted.map((f) => f ?? { theta: Float64Array.from(mean), weight: 0, records: 0 });
}

/** The prior of k arms fitted on offline observations in one pass: fitPriorStats of accumulatePrior. */
export function fitPrior(k: number, d: number, obs: readonly PriorObservation[], maxWeight: number): (FittedArmPrior | null)[] {
  return fitPriorStats(accumulatePrior(new Array<ArmStats | undefined>(k), d, obs), d, maxWeight);
}
