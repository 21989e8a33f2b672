import { invertSpd } from '@app/bandits';

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

/**
 * PILOT-style prior from offline outcomes (ALGORITHMS.md §3): per arm the ridge fit θ⁰ = (I + Σxxᵀ)⁻¹Σ r x of
 * the offline scores on the policy's own features, worth w = min(maxWeight, n) pseudo-observations, so a prior
 * never counts for more than its data nor beyond the cap. Arms without offline data get the mean θ⁰ of the
 * others with weight 0, i.e. a cold arm's precision (§3 "new model"): the guess moves the mean, the exploration
 * bonus stays that of an untried arm, so the model is never starved (§1 pitfall 1).
 */
export function fitPrior(k: number, d: number, obs: readonly PriorObservation[], maxWeight: number): (FittedArmPrior | null)[] {
  const fitted: (FittedArmPrior | null)[] = [];
  for (let a = 0; a < k; a++) {
    const mine = obs.filter((o) => o.arm === a);
    if (mine.length === 0) {
      fitted.push(null);
      continue;
    }
    const A = new Float64Array(d * d);
    const b = new Float64Array(d);
    for (let i = 0; i < d; i++) A[i * d + i] = 1;
    for (const { x, r } of mine)
      for (let i = 0; i < d; i++) {
        b[i] += r * x[i];
        for (let j = 0; j < d; j++) A[i * d + j] += x[i] * x[j];
      }
    const Ainv = invertSpd(A, d);
    const theta = new Float64Array(d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) theta[i] += Ainv[i * d + j] * b[j];
    fitted.push({ theta, weight: Math.min(maxWeight, mine.length), records: mine.length });
  }
  const known = fitted.filter((f): f is FittedArmPrior => f !== null);
  if (known.length === 0) return fitted;
  const mean = new Float64Array(d);
  for (const f of known) for (let i = 0; i < d; i++) mean[i] += f.theta[i] / known.length;
  return fitted.map((f) => f ?? { theta: Float64Array.from(mean), weight: 0, records: 0 });
}
