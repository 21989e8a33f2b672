import { type ArmStats, finish, isArmStatsBlob, packArmStats, type Steps, unpackArmStats } from '@app/bandits';
import { accumulatePriorSteps, type FittedArmPrior, fitPriorStatsSteps, type PriorObservation } from './prior-fit.js';

/**
 * What a policy keeps of its prior uploads: per arm name, the packed statistics (packArmStats layout) of every
 * offline outcome uploaded since the last replace. Small next to the records (d² + O(d) numbers per arm), and
 * enough to refit after adding more.
 */
export type StoredPriorStats = ReadonlyMap<string, Float64Array>;

export interface PriorRefit {
  /** Per arm of the policy, in its order. */
  fitted: (FittedArmPrior | null)[];
  /** The statistics to store for the next append (arms with outcomes only). */
  stats: Map<string, Float64Array>;
}

/**
 * Adds `obs` (arm indices into `arms`, contexts of dimension d) to the stored statistics and refits the prior over
 * all of them. Stored statistics of arms no longer in the policy, or of another dimension, are dropped. Because
 * accumulatePrior continues the stored sums observation by observation, uploading records in several calls gives
 * the fit of one call with all of them, bit for bit.
 */
export function refitPrior(arms: readonly string[], d: number, stored: StoredPriorStats, obs: readonly PriorObservation[], maxWeight: number): PriorRefit {
  return finish(refitPriorSteps(arms, d, stored, obs, maxWeight));
}

/** refitPrior in steps (one per observation added, then the fit's). */
export function* refitPriorSteps(
  arms: readonly string[],
  d: number,
  stored: StoredPriorStats,
  obs: readonly PriorObservation[],
  maxWeight: number,
): Steps<PriorRefit> {
  const start = arms.map((arm): ArmStats | undefined => {
    const v = stored.get(arm);
    return v && isArmStatsBlob(v, d, true) ? unpackArmStats(v, d, true) : undefined;
  });
  const stats = yield* accumulatePriorSteps(start, d, obs);
  const packed = new Map<string, Float64Array>();
  stats.forEach((s, a) => {
    if (s) packed.set(arms[a], packArmStats(s));
  });
  return { fitted: yield* fitPriorStatsSteps(stats, d, maxWeight), stats: packed };
}
