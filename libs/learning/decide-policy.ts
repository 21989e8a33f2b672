import { type ArmEstimate, decide, epsilonArgmax, isLinearAlgorithm, linearEstimates, type Rng } from '@app/bandits';
import { DomainError } from '@app/errors';
import { type PolicyRuntime } from './runtime.js';
import { type DuelRuntime, type TrendRuntime } from './sequential-runtime.js';

export type DecisionMode = 'single' | 'duel';

/** The order-dependent state a replica keeps beside the compiled statistics: fgts-cdb's chains, ti-ucb's windows. */
export interface SequentialState {
  duel?: DuelRuntime;
  trend?: TrendRuntime;
}

export interface DecisionInput {
  x: Float64Array;
  /** Arm indices the policy may serve (enabled, healthy, asked for). */
  candidates: readonly number[];
  mode: DecisionMode;
  /** Decision time, ms: ti-ucb extrapolates each arm's trend line to it. */
  nowMs: number;
}

export interface PolicyDecision {
  /** The served arm (a duel's first). */
  arm: number;
  /** Every served arm: one, or a duel's two different ones. */
  arms: number[];
  propensity: number;
  /** One per candidate, in candidate order. */
  estimates: ArmEstimate[];
}

/**
 * How every policy decides, for the api's /v1/route (and the proxy behind it) and the replay harness alike. Linear
 * policies decide from the compiled statistics; fgts-cdb from the replica's SGLD chains (one model, or two different
 * ones in duel mode); ti-ucb from its trend indices. The other objective heads (energy, cost, latency) are scored
 * from the linear statistics under the policy's weights for every policy. Duels need fgts-cdb: it is the policy
 * that learns from pairwise feedback. Pure apart from advancing the fgts-cdb chains; randomness comes from `rng`.
 */
export function decidePolicy(rt: PolicyRuntime, seq: SequentialState, input: DecisionInput, rng: Rng): PolicyDecision {
  const { x, candidates, mode } = input;
  if (mode === 'duel' && rt.algorithm !== 'fgts-cdb')
    throw new DomainError('WRONG_MODE', `policy ${rt.policy.name} uses ${rt.algorithm}; duels need an fgts-cdb policy`, [
      { path: 'mode', message: 'duel needs algorithm fgts-cdb' },
    ]);
  if (isLinearAlgorithm(rt.algorithm)) {
    const d = decide(rt.algorithm, rt.model, x, candidates, rt.params, rng);
    return { ...d, arms: [d.arm] };
  }
  if (rt.algorithm === 'fgts-cdb') {
    if (!seq.duel) throw new Error(`fgts-cdb policy ${rt.policy.name} decided without its duel state`);
    return decideDuelling(rt, seq.duel, input, rng);
  }
  if (!seq.trend) throw new Error(`ti-ucb policy ${rt.policy.name} decided without its trend state`);
  return decideTrend(rt, seq.trend, input, rng);
}

/**
 * Reports `quality` (per candidate: a utility or an index standing in for the quality head) as the estimate's
 * bonus over the linear quality prediction, so score = the other heads' penalties + w_q·quality.
 */
function replaceQuality(estimates: ArmEstimate[], quality: readonly number[], wq: number): void {
  estimates.forEach((e, c) => {
    e.bonus = wq * quality[c] - wq * e.quality;
    e.score = e.mean + e.bonus;
  });
}

function decideDuelling(rt: PolicyRuntime, duel: DuelRuntime, { x, candidates, mode }: DecisionInput, rng: Rng): PolicyDecision {
  if (mode === 'duel' && candidates.length < 2)
    throw new DomainError('VALIDATION', 'a duel needs two enabled candidates', [{ path: 'candidates', message: 'give at least two enabled models' }]);
  const estimates = linearEstimates(rt.model, x, candidates, false);
  const d = duel.decide(x, candidates, mode === 'duel', rng);
  replaceQuality(estimates, d.utility, rt.model.weights.quality);
  return { arm: d.arms[0], arms: d.arms, propensity: d.propensity, estimates };
}

/** Arms still in warm-up (index +∞) go first, ties at random; they are reported with a unit bonus (JSON-safe). */
function decideTrend(rt: PolicyRuntime, trend: TrendRuntime, { x, candidates, nowMs }: DecisionInput, rng: Rng): PolicyDecision {
  const estimates = linearEstimates(rt.model, x, candidates, false);
  const index = trend.indices(
    candidates,
    rt.model.arms.map((a) => a.pulls),
    nowMs,
  );
  replaceQuality(estimates, index, rt.model.weights.quality);
  const scores = estimates.map((e, c) => {
    if (index[c] !== Infinity) return e.score;
    e.bonus = 1;
    e.score = e.mean + 1;
    return Infinity;
  });
  const { pick, propensity } = epsilonArgmax(scores, scores.length, 0, rng);
  return { arm: candidates[pick], arms: [candidates[pick]], propensity, estimates };
}
