import { type ArmStats, compileArmSteps, emptyArmStats, finish, type Head, headIndex, recordDecision, recordObservation, type Steps } from '@app/bandits';

/** A head other than quality that offline records may have measured. */
export type MeasuredHead = Exclude<Head, 'quality'>;
export const MEASURED_HEADS: readonly MeasuredHead[] = ['energy', 'cost', 'latency'];

export interface PriorObservation {
  arm: number;
  x: Float64Array;
  r: number;
  /** What the offline call measured besides its score (J, USD, ms), where known. */
  measured?: Partial<Record<MeasuredHead, number>>;
}

/** What an offline record measured besides its score, in the prior endpoint's field names. */
export interface MeasuredFields {
  costUsd?: number;
  energyJoules?: number;
  latencyMs?: number;
}

/** The heads a record measured (undefined when it measured none). */
export function measuredHeads(r: MeasuredFields): PriorObservation['measured'] {
  if (r.costUsd === undefined && r.energyJoules === undefined && r.latencyMs === undefined) return undefined;
  return { cost: r.costUsd, energy: r.energyJoules, latency: r.latencyMs };
}

export interface FittedArmPrior {
  theta: Float64Array;
  weight: number;
  records: number;
  /** Ridge fits of the heads the records measured, on the same features (absent: none measured). */
  heads?: Partial<Record<MeasuredHead, Float64Array>>;
  /** The records' mean of each fitted head (the arm's per-request expectation of it, in place of the registry's). */
  means?: Partial<Record<MeasuredHead, number>>;
}

/** A head is fitted only when at least this many of an arm's records, and half of them, measured it. */
export const MIN_MEASURED_RECORDS = 10;

/** λ of the offline fit: θ⁰ = (I + Σxxᵀ)⁻¹Σ r x. */
const PRIOR_FIT = { ridge: 1, priorWeight: 0 };

/**
 * Adds offline observations to per-arm statistics (`stats[arm]`, created empty at dimension d on first use), one
 * observation after the other: Σxxᵀ, n, and Σ r x of the quality head and of each head the record measured. Continuing from statistics stored after
 * earlier observations gives exactly (bit for bit) the sums of one pass over all of them in the same order, which
 * is what makes a prior uploaded in several calls equal to one uploaded at once.
 */
export function accumulatePrior(stats: (ArmStats | undefined)[], d: number, obs: readonly PriorObservation[]): (ArmStats | undefined)[] {
  return finish(accumulatePriorSteps(stats, d, obs));
}

/** accumulatePrior in steps: one per observation (O(d²) each). */
export function* accumulatePriorSteps(stats: (ArmStats | undefined)[], d: number, obs: readonly PriorObservation[]): Steps<(ArmStats | undefined)[]> {
  for (const { arm, x, r, measured } of obs) {
    const s = (stats[arm] ??= emptyArmStats(d));
    recordDecision(s, x);
    recordObservation(s, x, headIndex.quality, r);
    if (measured) for (const h of MEASURED_HEADS) if (measured[h] !== undefined) recordObservation(s, x, headIndex[h], measured[h]);
    yield;
  }
  return stats;
}

/**
 * PILOT-style prior from offline outcomes (ALGORITHMS.md §3) given their per-arm statistics: per arm the ridge fit
 * θ⁰ = (I + Σxxᵀ)⁻¹Σ r x of the offline scores on the policy's own features (the quality head of compileArm),
 * worth w = min(maxWeight, n) pseudo-observations, so a prior never counts for more than its data nor beyond the
 * cap. Arms without offline data get the mean θ⁰ of the others with weight 0, i.e. a cold arm's precision (§3
 * "new model"): the guess moves the mean, the exploration bonus stays that of an untried arm, so the model is
 * never starved (§1 pitfall 1). A head most of the arm's records measured (cost, energy, latency; at least
 * MIN_MEASURED_RECORDS and half of them) is fitted the same way on the records that carry it (the others de-biased
 * as online, compileArm) and rides on the same weight, with its mean as the arm's per-request expectation; other
 * heads, and arms without offline data, keep the registry's.
 */
export function fitPriorStats(stats: readonly (ArmStats | undefined)[], d: number, maxWeight: number): (FittedArmPrior | null)[] {
  return finish(fitPriorStatsSteps(stats, d, maxWeight));
}

/** fitPriorStats in steps (each arm's fit in the steps of its inversion). */
export function* fitPriorStatsSteps(stats: readonly (ArmStats | undefined)[], d: number, maxWeight: number): Steps<(FittedArmPrior | null)[]> {
  const fitted: (FittedArmPrior | null)[] = [];
  for (const s of stats) fitted.push(s && s.pulls > 0 ? yield* fitArmSteps(s, d, maxWeight) : null);
  const known = fitted.filter((f): f is FittedArmPrior => f !== null);
  if (known.length === 0) return fitted;
  const mean = new Float64Array(d);
  for (const f of known) for (let i = 0; i < d; i++) mean[i] += f.theta[i] / known.length;
  return fitted.map((f) => f ?? { theta: Float64Array.from(mean), weight: 0, records: 0 });
}

/** One arm's prior from its offline statistics (see fitPriorStats). */
function* fitArmSteps(s: ArmStats, d: number, maxWeight: number): Steps<FittedArmPrior> {
  const all = (yield* compileArmSteps(d, s, {}, false, PRIOR_FIT)).theta;
  const head = (h: number) => all.slice(h * d, (h + 1) * d);
  const fit: FittedArmPrior = { theta: head(headIndex.quality), weight: Math.min(maxWeight, s.pulls), records: s.pulls };
  for (const h of MEASURED_HEADS) {
    const n = s.obs[headIndex[h]];
    if (n < MIN_MEASURED_RECORDS || n < s.pulls / 2) continue;
    (fit.heads ??= {})[h] = head(headIndex[h]);
    (fit.means ??= {})[h] = s.sum[headIndex[h]] / n;
  }
  return fit;
}

/** The prior of k arms fitted on offline observations in one pass: fitPriorStats of accumulatePrior. */
export function fitPrior(k: number, d: number, obs: readonly PriorObservation[], maxWeight: number): (FittedArmPrior | null)[] {
  return fitPriorStats(accumulatePrior(new Array<ArmStats | undefined>(k), d, obs), d, maxWeight);
}
