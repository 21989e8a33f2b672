import { type ArmStats } from './arm-stats.js';
import { arrivalIntercepts } from './arrival-fit.js';
import { invertSpdSteps, matVec } from './linalg.js';
import { type Head, HEAD_COUNT, HEAD_SIGN, HEADS, headIndex, type ObjectiveWeights } from './objective.js';
import { finish, type Steps } from './steps.js';

const { abs, max, min } = Math;

/** Per-request expectations used before an arm has observations of a head (e.g. J/token × expected tokens). */
export interface ArmPrior {
  energy?: number;
  cost?: number;
  latency?: number;
  /** Warm start of the quality head (PILOT, ALGORITHMS.md §3): pseudo-statistics added once at compile time. */
  quality?: QualityPrior;
}

/**
 * A_prior (d×d, added to A) and b_prior (added to b_quality), worth `weight` pseudo-observations; `mean` is the
 * prior's own coefficient vector θ⁰ = A_prior⁻¹ b_prior (used by the prior gate). `heads`: the offline fits θ⁰_h of
 * the other heads the records measured (their cost, energy, latency); such a head starts from its fit instead of
 * the registry's per-request expectation and blends in its live fit with ω = obs/(obs + weight).
 */
export interface QualityPrior {
  A: Float64Array;
  b: Float64Array;
  mean: Float64Array;
  weight: number;
  heads?: Partial<Record<Exclude<Head, 'quality'>, Float64Array>>;
}

/**
 * The prior gate (ALGORITHMS.md §3 pitfall "bad priors hurt"): on the quality observations seen so far, the
 * squared error of the priors' predictions minus that of the cold start's (θ = 0), summed over arms:
 * Σ_a θ⁰ᵀ(ρ_a Σxxᵀ)θ⁰ − 2θ⁰ᵀΣ r x, with ρ_a = obs/pulls the share of the arm's decisions that got a reward.
 * Additive statistics only (Σr² cancels). Positive = the priors explain the data worse than no prior at all,
 * and compileLinearModel then drops them, so a systematically wrong prior costs a few observations, not the run.
 */
export function priorExcessError(d: number, stats: readonly ArmStats[], priors: readonly ArmPrior[]): number {
  let delta = 0;
  stats.forEach((s, a) => {
    const qp = priors[a]?.quality;
    const q = headIndex.quality;
    if (!qp || s.obs[q] === 0 || s.pulls === 0) return;
    const rho = min(1, s.obs[q] / s.pulls);
    let quad = 0;
    let lin = 0;
    for (let i = 0; i < d; i++) {
      let row = 0;
      for (let j = 0; j < d; j++) row += s.xx[i * d + j] * qp.mean[j];
      quad += qp.mean[i] * row;
      lin += qp.mean[i] * s.xr[q * d + i];
    }
    delta += rho * quad - 2 * lin;
  });
  return delta;
}

export interface LinearModelParams {
  /** Ridge λ_reg: A = λ_reg·I + Σ x xᵀ. */
  ridge: number;
  /** Pseudo-observations a head's prior is worth before measured values take over. */
  priorWeight: number;
  /**
   * Fixed unit of each penalised head (J, USD, ms per request): a weight w on head h trades w units of quality
   * (0..1) against one `scales[h]` of that head. A head without one falls back to the largest learnt per-arm
   * mean, which moves while learning (headRefs).
   */
  scales?: HeadScales;
}

/** Per penalised head, its fixed unit (> 0). */
export type HeadScales = Partial<Record<Exclude<Head, 'quality'>, number>>;

/**
 * A policy's statistics compiled for fast decisions: per arm the inverse A⁻¹, one coefficient vector per head
 * and the scalarised vector for the current weights. Derived data: rebuilt whenever the statistics or the
 * weights change, never stored (ALGORITHMS.md §11, "cached A⁻¹ … derived").
 */
export interface CompiledArm {
  /** (λI + Σxxᵀ + A_prior)⁻¹: the quality head's and the exploration width's. */
  Ainv: Float64Array;
  /**
   * (λI + Σxxᵀ)⁻¹ for the heads other than quality (energy, cost, latency): the prior's pseudo-observations are of
   * quality and would shrink those toward 0. The same array as `Ainv` without a prior, or while no such head has
   * observations.
   */
  headsAinv: Float64Array;
  /**
   * HEAD_COUNT×d coefficients shrunk toward the prior, before the missing-feedback factor (which depends on the
   * context: {@link missingFactor}); a head's prediction is offset + θᵀx + (c(x) − 1)·(θ − θ_prior)ᵀx.
   */
  theta: Float64Array;
  /**
   * HEAD_COUNT×d: per head with a warm-start prior its share of the coefficients, without the missing-feedback
   * factor: the quality head's A⁻¹b_prior (bit h of `priorHeads`), a measured head's (1 − ω)·θ⁰_h (bit h of
   * `blendHeads`, ω = obs/(obs + w⁰)); null when the arm has no warm-start prior.
   */
  priorTheta: Float64Array | null;
  /** Bit h set: head h carries a prior share in A⁻¹ (`Ainv`), which a decision moves (the quality head). */
  priorHeads: number;
  /**
   * Bit h set: head h (not quality) blends the prior's offline fit, a share a decision leaves as it is, with its
   * live fit on `headsAinv`.
   */
  blendHeads: number;
  /** Per-head constant (the prior's share). */
  offset: Float64Array;
  /**
   * HEAD_COUNT×d: per head with observations, `headsAinv`·Σ_h x (the contexts whose value of head h arrived); with
   * `visits`, where in the context space that head's values arrive (arrival-fit.ts). Zero for a head without.
   */
  seen: Float64Array;
  /** `headsAinv`·Σx over the arm's decisions. */
  visits: Float64Array;
  /** [Σx (d), Σ_h x per head (HEAD_COUNT×d)]: the arm's arrival sums (a local decision adds to Σx). */
  arrivals: Float64Array;
  /** The arrival fits' intercepts [β, β_h…] (arrivalIntercepts). */
  intercepts: Float64Array;
  /** Σ_h sign_h · w_h / ref_h · theta_h: the mean score before the missing-feedback factors, one dot product. */
  scoreTheta: Float64Array;
  scoreOffset: number;
  pulls: number;
  /** Pseudo-observations of a warm-start prior (0 without one): an arm with pulls + pseudo = 0 is untried. */
  pseudo: number;
  /** Σ r of the quality head (with its observation count, the Beta counts of beta-ts). */
  qualitySum: number;
  /** Per head: observations (with `pulls`, the bound of the missing-feedback factor). */
  obs: Float64Array;
  /**
   * Bumped by every in-place change of Ainv, headsAinv, priorTheta, theta or the score (applyLocalDecision,
   * rescore), so copies derived
   * from the arm (the decision kernel's packed form, decision-kernel.ts) know when they are stale.
   */
  version: number;
}

export interface LinearModel {
  d: number;
  arms: CompiledArm[];
  /** Unit of each head (1 for quality): its fixed scale, else the largest per-arm mean (headRefs). */
  refs: Float64Array;
  weights: ObjectiveWeights;
  /**
   * Per head, a price per unit added to its penalty (budget pacing: μ / limit, ALGORITHMS.md §10a); 0 without a
   * budget. Score = Σ_h sign_h·(w_h / ref_h + price_h)·ŷ_h.
   */
  prices: Float64Array;
  /** Per head, its factor in the score: sign_h·(w_h / ref_h + price_h) (set with the weights and prices). */
  headK: Float64Array;
  /** False when quality priors exist but the prior gate (priorExcessError) switched them off. */
  priorActive: boolean;
  /** Ridge λ_reg (the arrival fits' intercepts, updated by local decisions). */
  ridge: number;
}

/**
 * Compiles additive arm statistics into a decision model.
 *
 * θ_h = A⁻¹ b_h with A = λI + Σxxᵀ (all decisions) and b_h = Σ r_h x (observed only). Because A counts every
 * decision but b_h only the decisions whose head-h value arrived, xᵀA⁻¹b_h estimates ρ_h(x)·y_h(x), with ρ_h(x) the
 * share of decisions near x whose value arrived; the prediction divides by it (c_h(x) = 1/ρ̂_h(x), see
 * arrival-fit.ts: a missing thumb is not a thumbs-down, ALGORITHMS.md §13). Heads with a prior are blended
 * toward it with `priorWeight` pseudo-observations. A quality prior (PILOT) enters as A += A_prior and
 * θ_q = A⁻¹(b_q + b_prior) with c(x) on the live part only, added once, never stored with the statistics (§11). The other heads
 * solve with λI + Σxxᵀ alone (the prior's pseudo-observations say nothing about them); one the prior fitted (logged
 * cost, energy, latency) is (1 − ω)·θ⁰_h + ω·θ_live with ω = obs/(obs + w⁰), as a registry expectation is blended
 * with priorWeight.
 */
export function compileLinearModel(
  d: number,
  stats: readonly ArmStats[],
  priors: readonly ArmPrior[],
  weights: ObjectiveWeights,
  params: LinearModelParams,
): LinearModel {
  return finish(compileLinearModelSteps(d, stats, priors, weights, params));
}

/**
 * An arm compiled earlier that may stand for arm `a` of a new compile: given whether the new compile's prior gate
 * is open, the arm to copy, or undefined to invert the arm's statistics (see compileLinearModelSteps).
 */
export type ReusableArm = (a: number, priorActive: boolean) => CompiledArm | undefined;

/**
 * compileLinearModel in steps (each arm's inversion row by row, O(d²) work a step), so a caller that serves requests
 * can let them run in between (a replica's recompile). An arm `reuse` gives is copied instead (O(d²)): the caller
 * vouches that it was compiled from the same statistics, prior and parameters.
 */
export function* compileLinearModelSteps(
  d: number,
  stats: readonly ArmStats[],
  priors: readonly ArmPrior[],
  weights: ObjectiveWeights,
  params: LinearModelParams,
  reuse: ReusableArm = () => undefined,
): Steps<LinearModel> {
  const priorActive = priorExcessError(d, stats, priors) <= 0;
  const scratch = new Float64Array(d * d);
  const arms: CompiledArm[] = [];
  for (let a = 0; a < stats.length; a++) {
    const earlier = reuse(a, priorActive);
    arms.push(earlier ? copyArm(earlier) : yield* compileArmSteps(d, stats[a], priors[a] ?? {}, priorActive, params, scratch));
  }
  const model: LinearModel = {
    d,
    arms,
    refs: headRefs(stats, priors, params.scales),
    weights,
    prices: new Float64Array(HEAD_COUNT),
    headK: new Float64Array(HEAD_COUNT),
    priorActive,
    ridge: params.ridge,
  };
  return reweight(model, weights);
}

/**
 * A copy of a compiled arm that shares no array with it (Ainv and headsAinv stay one array when they were), so
 * local updates of either leave the other as it was; a new identity for derived copies (the decision kernel's).
 */
export function copyArm(arm: CompiledArm): CompiledArm {
  const Ainv = arm.Ainv.slice();
  return {
    ...arm,
    Ainv,
    headsAinv: arm.headsAinv === arm.Ainv ? Ainv : arm.headsAinv.slice(),
    theta: arm.theta.slice(),
    priorTheta: arm.priorTheta?.slice() ?? null,
    offset: arm.offset.slice(),
    seen: arm.seen.slice(),
    visits: arm.visits.slice(),
    arrivals: arm.arrivals.slice(),
    intercepts: arm.intercepts.slice(),
    scoreTheta: arm.scoreTheta.slice(),
    obs: arm.obs.slice(),
    version: 0,
  };
}

/** The per-request expectation of head h (none for quality: its prior is the PILOT statistics). */
const priorOf = (p: ArmPrior, h: number): number | undefined => {
  const head = HEADS[h];
  return head === 'quality' ? undefined : p[head];
};

/** A measured head's offline fit θ⁰_h from a warm-start prior (none for quality, or without a positive weight). */
const headFit = (qp: QualityPrior | undefined, h: number): Float64Array | undefined => {
  const head = HEADS[h];
  return qp && qp.weight > 0 && head !== 'quality' ? qp.heads?.[head] : undefined;
};

/**
 * Whether a head other than quality has observations: only then does it need (λI + Σxxᵀ)⁻¹ apart from the quality
 * head's inverse (a head without observations has no live part, and a decision leaves it so).
 */
const needsOwnInverse = (s: ArmStats): boolean => {
  for (let h = 0; h < HEAD_COUNT; h++) if (h !== headIndex.quality && s.obs[h] > 0) return true;
  return false;
};

/** One arm of compileLinearModel (the replay harness recompiles only the arm an observation touched). */
export function compileArm(
  d: number,
  s: ArmStats,
  armPrior: ArmPrior,
  priorActive: boolean,
  params: LinearModelParams,
  A: Float64Array = new Float64Array(d * d),
): CompiledArm {
  return finish(compileArmSteps(d, s, armPrior, priorActive, params, A));
}

/** compileArm in steps (its inversions', invertSpdSteps). */
export function* compileArmSteps(
  d: number,
  s: ArmStats,
  armPrior: ArmPrior,
  priorActive: boolean,
  params: LinearModelParams,
  A: Float64Array = new Float64Array(d * d),
): Steps<CompiledArm> {
  for (let i = 0; i < d * d; i++) A[i] = s.xx[i];
  for (let i = 0; i < d; i++) A[i * d + i] += params.ridge;
  const qp = priorActive ? armPrior.quality : undefined;
  let Ainv: Float64Array;
  let headsAinv: Float64Array;
  if (qp && qp.weight > 0) {
    const own = needsOwnInverse(s) ? yield* invertSpdSteps(A, d) : null;
    for (let i = 0; i < d * d; i++) A[i] += qp.A[i];
    Ainv = yield* invertSpdSteps(A, d);
    headsAinv = own ?? Ainv;
  } else {
    Ainv = headsAinv = yield* invertSpdSteps(A, d);
  }
  const theta = new Float64Array(HEAD_COUNT * d);
  const offset = new Float64Array(HEAD_COUNT);
  const priorTheta = qp ? new Float64Array(HEAD_COUNT * d) : null;
  const seen = new Float64Array(HEAD_COUNT * d);
  const visits = matVec(headsAinv, s.xs, d, new Float64Array(d));
  const arrivals = new Float64Array((1 + HEAD_COUNT) * d);
  arrivals.set(s.xs);
  arrivals.set(s.xo, d);
  let priorHeads = 0;
  let blendHeads = 0;
  const ls = new Float64Array(d);
  for (let h = 0; h < HEAD_COUNT; h++) {
    const quality = h === headIndex.quality;
    const fit = headFit(qp, h);
    const obs = s.obs[h];
    const prior = quality || fit ? undefined : priorOf(armPrior, h);
    // A measured head's offline fit and its live fit are blended by their counts, as a registry expectation is.
    const w = fit ? liveShare(obs, qp!.weight) : prior === undefined ? 1 : liveShare(obs, params.priorWeight);
    const th = theta.subarray(h * d, (h + 1) * d);
    if (obs > 0) {
      matVec(quality ? Ainv : headsAinv, s.xr.subarray(h * d, (h + 1) * d), d, ls);
      for (let i = 0; i < d; i++) th[i] = w * ls[i];
      matVec(headsAinv, s.xo.subarray(h * d, (h + 1) * d), d, seen.subarray(h * d, (h + 1) * d));
    }
    offset[h] = prior === undefined ? 0 : (1 - w) * prior;
    if (!priorTheta) continue;
    const pt = priorTheta.subarray(h * d, (h + 1) * d);
    if (quality) {
      matVec(Ainv, qp!.b, d, pt);
      priorHeads |= 1 << h;
    } else if (fit) {
      for (let i = 0; i < d; i++) pt[i] = (1 - w) * fit[i];
      blendHeads |= 1 << h;
    } else continue;
    for (let i = 0; i < d; i++) th[i] += pt[i];
  }
  return {
    Ainv,
    headsAinv,
    theta,
    priorTheta,
    priorHeads,
    blendHeads,
    offset,
    seen,
    visits,
    arrivals,
    intercepts: arrivalIntercepts(visits, s.xs, s.xo, s.pulls, s.obs, params.ridge, new Float64Array(1 + HEAD_COUNT)),
    scoreTheta: new Float64Array(d),
    scoreOffset: 0,
    pulls: s.pulls,
    pseudo: qp?.weight ?? 0,
    qualitySum: s.sum[headIndex.quality],
    obs: Float64Array.from(s.obs),
    version: 0,
  };
}

/**
 * Per head its unit, so objective weights are dimensionless: the fixed scale where one is given, else the largest
 * per-arm mean (or prior); 1 for quality.
 */
export function headRefs(stats: readonly ArmStats[], priors: readonly ArmPrior[], scales: HeadScales = {}): Float64Array {
  const refs = new Float64Array(HEAD_COUNT).fill(0);
  refs[headIndex.quality] = 1;
  const fixed = (h: number): number | undefined => (h === headIndex.quality ? undefined : scales[HEADS[h] as keyof HeadScales]);
  stats.forEach((s, a) => {
    for (let h = 0; h < HEAD_COUNT; h++) {
      if (h === headIndex.quality || fixed(h) !== undefined) continue;
      const prior = priorOf(priors[a] ?? {}, h);
      const mean = s.obs[h] > 0 ? s.sum[h] / s.obs[h] : (prior ?? 0);
      refs[h] = max(refs[h], abs(mean));
    }
  });
  for (let h = 0; h < HEAD_COUNT; h++) {
    const f = fixed(h);
    if (f !== undefined && f > 0) refs[h] = f;
    if (!(refs[h] > 0)) refs[h] = 1;
  }
  return refs;
}

/** Sets the per-unit head prices (budget pacing) and rescores every arm when they changed. */
export function setPrices(model: LinearModel, prices: Float64Array): void {
  let same = true;
  for (let h = 0; h < HEAD_COUNT; h++) if (model.prices[h] !== prices[h]) same = false;
  if (same) return;
  model.prices.set(prices);
  reweight(model, model.weights);
}

/** Recomputes the scalarised coefficients for new weights, in place, without touching the statistics. */
export function reweight(model: LinearModel, weights: ObjectiveWeights): LinearModel {
  model.weights = weights;
  const { refs, prices } = model;
  for (let h = 0; h < HEAD_COUNT; h++) model.headK[h] = HEAD_SIGN[h] * (weights[HEADS[h]] / refs[h] + prices[h]);
  for (const arm of model.arms) rescore(model, arm);
  return model;
}

/** scoreTheta and scoreOffset of one arm from its heads and the model's factors (headK). */
export function rescore(model: LinearModel, arm: CompiledArm): void {
  const { d, headK } = model;
  arm.scoreTheta.fill(0);
  arm.scoreOffset = 0;
  for (let h = 0; h < HEAD_COUNT; h++) {
    const k = headK[h];
    if (k === 0) continue;
    for (let i = 0; i < d; i++) arm.scoreTheta[i] += k * arm.theta[h * d + i];
    arm.scoreOffset += k * arm.offset[h];
  }
  arm.version++;
}

/**
 * The live fit's share against a prior worth `weight` observations: obs / (obs + weight), and 0 before any
 * observation (the prior alone, also at weight 0, where the ratio is 0/0).
 */
export const liveShare = (obs: number, weight: number): number => (obs > 0 ? obs / (obs + weight) : 0);
