import {
  compileArm,
  compileLinearModelSteps,
  finish,
  type Steps,
  sameArmStats,
  emptyArmStats,
  headRefs,
  priorExcessError,
  reweight,
  unpackArmStats,
  type PolicyAlgorithm,
  type ArmPrior,
  type ArmStats,
  type LinearModel,
  type LinearModelParams,
  defaultParams,
  type AlgorithmParams,
  type QualityPrior,
  type HeadScales,
  setPrices,
} from '@app/bandits';
import { armPrior, MIN_SCALE, type Model, type Policy, type SpendTotals } from '@app/contracts';
import { budgetPrices, budgetStandings, noPendingSpend } from './budget-pacing.js';
import { MEASURED_HEADS, type MeasuredHead } from './prior-fit.js';

export const DEFAULT_EXPECTED_INPUT_TOKENS = 500;
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 256;

/** A policy ready to decide: its config, its compiled statistics and how arm names map to indices. */
export interface PolicyRuntime {
  policy: Policy;
  algorithm: PolicyAlgorithm;
  params: AlgorithmParams;
  model: LinearModel;
  stats: ArmStats[];
  /** Per-request expectations and warm start the model was compiled with (armPriors). */
  priors: ArmPrior[];
  armIndex: Map<string, number>;
  /** seq of the state this copy was compiled from. */
  seq: number;
  /** Fixed units of the penalised heads the weights act on (objectiveScales). */
  scales: HeadScales;
  /** This replica's decisions since the compile, at their predicted spend (budget pacing, recordPendingSpend). */
  pending: SpendTotals;
}

export function resolveParams(policy: Policy): AlgorithmParams {
  const d = defaultParams(policy.algorithm);
  return {
    alpha: policy.params.alpha ?? d.alpha,
    ridge: policy.params.ridge ?? d.ridge,
    epsilon: policy.params.epsilon ?? d.epsilon,
    propensityDraws: policy.params.propensityDraws ?? d.propensityDraws,
  };
}

/** How a policy's statistics compile (ridge from the resolved params; a head prior is worth 2 observations by default). */
export function linearModelParams(policy: Policy, scales: HeadScales = {}): LinearModelParams {
  return { ridge: resolveParams(policy).ridge, priorWeight: policy.params.priorWeight ?? 2, scales };
}

const expectedTokens = (policy: Policy) => ({
  input: policy.params.expectedInputTokens ?? DEFAULT_EXPECTED_INPUT_TOKENS,
  output: policy.params.expectedOutputTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS,
});

/** Expected USD of one request to `m` at the policy's expected token counts. */
const expectedCost = (m: Model | undefined, tok: { input: number; output: number }): number | undefined =>
  m?.pricing ? (m.pricing.inputPerMTok * tok.input + m.pricing.outputPerMTok * tok.output) / 1e6 : undefined;

/**
 * Fixed units of the penalised heads, so that an objective weight means the same tomorrow as today: the policy's
 * own `scales` where set, else from the registry (never from measurements, which move): energy = the largest
 * registry J/token × expected output tokens over the arms, cost = the largest expected price of a request. A
 * weight of 1 on cost then trades one unit of quality (the 0..1 score) against the expected cost of one request
 * to the policy's dearest model. Heads with neither (latency, unless set) keep the learnt unit (headRefs).
 */
export function objectiveScales(policy: Policy, models: ReadonlyMap<string, Model>): HeadScales {
  const tok = expectedTokens(policy);
  let energy = 0;
  let cost = 0;
  for (const arm of policy.arms) {
    const m = models.get(arm);
    energy = Math.max(energy, (m?.energy?.joulesPerOutputToken ?? 0) * tok.output);
    cost = Math.max(cost, expectedCost(m, tok) ?? 0);
  }
  const scales: HeadScales = {};
  if (energy > 0) scales.energy = energy;
  if (cost > 0) scales.cost = cost;
  const all: HeadScales = { ...scales, ...policy.scales };
  for (const head of ['energy', 'cost', 'latency'] as const) if (all[head] !== undefined) all[head] = Math.max(MIN_SCALE, all[head]);
  return all;
}

/**
 * Per-request priors of each arm from the model registry, refined by measured energy per output token:
 * energy = J/token × expected output tokens; cost = prices × expected tokens.
 */
export function armPriors(policy: Policy, models: ReadonlyMap<string, Model>, energyPerToken: ReadonlyMap<string, number>): ArmPrior[] {
  const tok = expectedTokens(policy);
  return policy.arms.map((arm) => {
    const m = models.get(arm);
    const jpt = energyPerToken.get(arm) ?? m?.energy?.joulesPerOutputToken;
    const prior: ArmPrior = {};
    if (jpt !== undefined) prior.energy = jpt * tok.output;
    const cost = expectedCost(m, tok);
    if (cost !== undefined) prior.cost = cost;
    const qp = armPrior(policy.prior, arm);
    if (qp && qp.theta.length === policy.features.dim) {
      prior.quality = qualityPrior(qp.theta, qp.weight, resolveParams(policy).ridge, qp.heads);
      // A head the log measured: its mean is the arm's expectation (the unit's fallback, and the head's target if
      // the prior gate switches the prior off) in place of the registry's.
      for (const h of MEASURED_HEADS) if (prior.quality.heads?.[h] && qp.means?.[h] !== undefined) prior[h] = qp.means[h];
    }
    return prior;
  });
}

/**
 * PILOT prior of one arm: A += w·I, b += w·θ⁰ (§3). With w = 0 (no offline data for this arm) the guess θ⁰ still
 * sets the starting mean (b += ridge·θ⁰) while A keeps a cold arm's precision. Each measured head's fit θ⁰_h is
 * kept as it is (compileArm blends it with the live fit); one of another dimension is ignored.
 */
export function qualityPrior(theta: readonly number[], weight: number, ridge: number, heads?: Partial<Record<MeasuredHead, readonly number[]>>): QualityPrior {
  const d = theta.length;
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) A[i * d + i] = weight;
  const scale = weight > 0 ? weight : ridge;
  const prior: QualityPrior = { A, b: Float64Array.from(theta, (v) => scale * v), mean: Float64Array.from(theta), weight };
  for (const h of MEASURED_HEADS) {
    const t = heads?.[h];
    if (t && t.length === d) (prior.heads ??= {})[h] = Float64Array.from(t);
  }
  return prior;
}

/** Compiles stored arm blobs (by arm name) into a runtime. Arms without a blob start empty. */
export function buildRuntime(
  policy: Policy,
  blobs: ReadonlyMap<string, Float64Array>,
  priors: ArmPrior[],
  seq: number,
  scales: HeadScales = {},
): PolicyRuntime {
  return finish(buildRuntimeSteps(policy, blobs, priors, seq, scales));
}

/**
 * buildRuntime in steps (compileLinearModelSteps: O(d²) work a step). `previous`: a runtime of the
 * same policy settings, models and priors (the caller vouches for it); an arm whose statistics it compiled are the
 * ones stored now is copied from it, with what its replica folded in since (its own decisions not yet in the
 * state), instead of inverted again.
 */
export function* buildRuntimeSteps(
  policy: Policy,
  blobs: ReadonlyMap<string, Float64Array>,
  priors: ArmPrior[],
  seq: number,
  scales: HeadScales = {},
  previous?: PolicyRuntime,
): Steps<PolicyRuntime> {
  const d = policy.features.dim;
  const stats = policy.arms.map((arm) => {
    const b = blobs.get(arm);
    return b ? unpackArmStats(b, d) : emptyArmStats(d);
  });
  return yield* runtimeSteps(policy, stats, priors, seq, scales, previous);
}

/** buildRuntimeSteps from statistics already unpacked. */
function* runtimeSteps(policy: Policy, stats: ArmStats[], priors: ArmPrior[], seq: number, scales: HeadScales, previous?: PolicyRuntime): Steps<PolicyRuntime> {
  const d = policy.features.dim;
  const reuse = (a: number, priorActive: boolean) => {
    const was = previous?.stats[a];
    const same =
      previous?.model.d === d && previous.model.priorActive === priorActive && was !== undefined && (was === stats[a] || sameArmStats(was, stats[a]));
    return same ? previous.model.arms[a] : undefined;
  };
  const model = yield* compileLinearModelSteps(d, stats, priors, policy.objective, linearModelParams(policy, scales), reuse);
  setPrices(model, budgetPrices(budgetStandings(policy, stats)));
  return {
    policy,
    algorithm: policy.algorithm,
    params: resolveParams(policy),
    model,
    stats,
    priors,
    armIndex: new Map(policy.arms.map((a, i) => [a, i])),
    seq,
    scales,
    pending: noPendingSpend(),
  };
}

/**
 * Whether `policy` compiles its arms as `rt`'s policy does: the same arms, dimension, ridge and prior weight. The
 * objective, exploration and budget act after the arms are compiled, so a variant that changes only those may be
 * compiled from `rt` (variantSteps).
 */
export function compiledAlike(rt: PolicyRuntime, policy: Policy): boolean {
  const [was, now] = [linearModelParams(rt.policy), linearModelParams(policy)];
  return (
    rt.policy.features.dim === policy.features.dim &&
    rt.policy.arms.join('\n') === policy.arms.join('\n') &&
    was.ridge === now.ridge &&
    was.priorWeight === now.priorWeight
  );
}

/**
 * `variant` (compiledAlike `base`'s policy) compiled from `base`: the same statistics, priors and scales, each arm
 * copied (O(d²)) rather than inverted; what the variant changes (weights, exploration, budget) applied after. The
 * runtime shares `base`'s statistics: it is for reading (an evaluation), not for serving.
 */
export function variantSteps(base: PolicyRuntime, variant: Policy): Steps<PolicyRuntime> {
  return runtimeSteps(variant, base.stats, base.priors, base.seq, base.scales, base);
}

/**
 * Brings `rt.model` up to date after `rt.stats[a]` changed for the arms in `changed`, giving what buildRuntime
 * would compile from the same statistics while inverting only those arms (every arm when the prior gate flips).
 * The replay harness calls it before each decision, as a replica recompiles after its state moved.
 */
export function recompileArms(rt: PolicyRuntime, changed: Iterable<number>, scratch?: Float64Array): void {
  const { d } = rt.model;
  const priorActive = priorExcessError(d, rt.stats, rt.priors) <= 0;
  const arms = priorActive === rt.model.priorActive ? changed : rt.stats.keys();
  rt.model.priorActive = priorActive;
  const lp = linearModelParams(rt.policy, rt.scales);
  for (const a of arms) rt.model.arms[a] = compileArm(d, rt.stats[a], rt.priors[a] ?? {}, priorActive, lp, scratch);
  rt.model.refs = headRefs(rt.stats, rt.priors, rt.scales);
  rt.pending = noPendingSpend();
  rt.model.prices.set(budgetPrices(budgetStandings(rt.policy, rt.stats)));
  reweight(rt.model, rt.model.weights);
}
