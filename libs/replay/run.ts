import { createRng, type AlgorithmParams, type ObjectiveWeights, type PolicyAlgorithm } from '@app/bandits';
import { type Budget, type PolicyPrior } from '@app/contracts';
import { type ReplayDataset, replayRegistry } from './dataset.js';
import { MetricsAccumulator } from './metrics.js';
import { type Outcome, ReplayPolicy } from './policies.js';
import { type RunMetrics } from './run-metrics.js';

export interface ReplaySpec {
  algorithm: PolicyAlgorithm;
  objective: ObjectiveWeights;
  params: Partial<AlgorithmParams>;
  /** Rounds between a decision and its feedback (0 = before the next decision). */
  delay: number;
  limit?: number;
  /** Warm start: the prior the policy starts from (fitReplayPrior), as installed with POST …/prior. */
  prior?: PolicyPrior;
  /** Mean spend per request to pace to (a policy's budget), and the price's gain (params.budgetGain). */
  budget?: Budget;
  budgetGain?: number;
  /** Relative gain of a price started from the prior (params.budgetStartGain). */
  budgetStartGain?: number;
  /** Contexts a budget's start price is searched on (a warm start's prompts). */
  budgetStartContexts?: readonly Float64Array[];
}

/** The routing policy a replay of `spec` runs on `ds` with contexts of dimension `dim`, as the service would hold it. */
export function specPolicy(ds: ReplayDataset, spec: ReplaySpec, dim: number): ReplayPolicy {
  return new ReplayPolicy({
    algorithm: spec.algorithm,
    arms: ds.models,
    dim,
    objective: spec.objective,
    params: spec.params,
    prior: spec.prior,
    ...replayRegistry(ds),
    budget: spec.budget,
    budgetGain: spec.budgetGain,
    budgetStartGain: spec.budgetStartGain,
    budgetStartContexts: spec.budgetStartContexts,
  });
}

/** Seeded Fisher–Yates order of n items. */
export function seededOrder(n: number, seed: number): number[] {
  const rng = createRng(0x5eed ^ seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * One online pass from a cold start, or from the warm-start prior `spec.prior`: prompts in a seeded order; the
 * policy sees only the served model's outcome (for a duel, both served outcomes and the preference derived from
 * their scores), `delay` rounds later. `features[i]` is record i's context (the service's featurizer output).
 */
export function runReplay(
  ds: ReplayDataset,
  features: readonly Float64Array[],
  bestSingle: number,
  spec: ReplaySpec,
  seed: number,
  progress?: (done: number, total: number) => void,
): RunMetrics {
  const K = ds.models.length;
  const d = features[0].length;
  const order = seededOrder(ds.records.length, seed).slice(0, spec.limit ?? ds.records.length);
  const T = order.length;
  const policy = specPolicy(ds, spec, d);
  const rng = createRng(seed * 2654435761);
  const pending: { due: number; arms: number[]; i: number; t: number }[] = [];
  const metrics = new MetricsAccumulator(K, T, bestSingle);
  const deliver = (p: { arms: number[]; i: number; t: number }) => {
    const r = ds.records[p.i];
    const outcomes: Outcome[] = p.arms.map((a) => ({ quality: r.quality[a], costUsd: r.costUsd[a], energyJ: r.energyJ[a] }));
    const pref = p.arms.length === 2 ? preference(r.quality[p.arms[0]], r.quality[p.arms[1]]) : undefined;
    policy.observe(p.arms, features[p.i], p.t, outcomes, pref);
  };
  for (let t = 0; t < T; t++) {
    while (pending.length > 0 && pending[0].due <= t) deliver(pending.shift()!);
    const i = order[t];
    const r = ds.records[i];
    const { arms } = policy.choose(features[i], t, rng);
    policy.decided(arms, features[i]);
    const checkpoint = metrics.add(r, arms);
    const p = { due: t + spec.delay, arms, i, t };
    if (spec.delay === 0) deliver(p);
    else pending.push(p);
    if (checkpoint) progress?.(t + 1, T);
  }
  return metrics.result();
}

/** P(a ≻ b) derived from two scores: 1, 0 or ½ on a tie. */
export const preference = (qa: number, qb: number): number => (qa > qb ? 1 : qa < qb ? 0 : 0.5);
