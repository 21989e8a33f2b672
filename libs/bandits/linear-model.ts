import { type ArmStats } from './arm-stats.js';
import { invertSpdSteps, matVec, solveSpdSteps } from './linalg.js';
import { type Head, HEAD_COUNT, HEAD_SIGN, HEADS, headIndex, type ObjectiveWeights } from './objective.js';
import { finish, type Steps } from './steps.js';

const { abs, max } = Math;

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
 * Σ_a θ⁰ᵀS_q,aθ⁰ − 2θ⁰ᵀΣ r x, with S_q = Σxxᵀ over the decisions that got a reward.
 * Additive statistics only (Σr² cancels). Positive = the priors explain the data worse than no prior at all,
 * and compileLinearModel then drops them, so a systematically wrong prior costs a few observations, not the run.
 */
export function priorExcessError(d: number, stats: readonly ArmStats[], priors: readonly ArmPrior[]): number {
  let delta = 0;
  stats.forEach((s, a) => {
    const qp = priors[a]?.quality;
    const q = headIndex.quality;
    if (!qp || s.obs[q] === 0) return;
    let quad = 0;
    let lin = 0;
    for (let i = 0; i < d; i++) {
      let row = 0;
      for (let j = 0; j < d; j++) row += s.xq[i * d + j] * qp.mean[j];
      quad += qp.mean[i] * row;
      lin += qp.mean[i] * s.xr[q * d + i];
    }
    delta += quad - 2 * lin;
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
  /** (λI + Σxxᵀ + A_prior)⁻¹ over every decision: the exploration width's. */
  Ainv: Float64Array;
  /**
   * (λI + Σxxᵀ)⁻¹ for the heads other than quality (energy, cost, latency): the prior's pseudo-observations are of
   * quality and would shrink those toward 0. The same array as `Ainv` without a prior, or while no such head has
   * observations.
   */
  headsAinv: Float64Array;
  /**
   * HEAD_COUNT×d coefficients shrunk toward the prior: the quality head's a ridge fit on its observations alone
   * ((λI + S_q + A_prior)⁻¹(b_q + b_prior), which no decision moves), the measured heads' de-biased for missing
   * observations (pulls/obs).
   */
  theta: Float64Array;
  /**
   * HEAD_COUNT×d: per head with a warm-start prior its share of the coefficients, without the missing-feedback
   * factor: the quality head's (λI + S_q + A_prior)⁻¹b_prior, a measured head's (1 − ω)·θ⁰_h (bit h of
   * `blendHeads`, ω = obs/(obs + w⁰)); null when the arm has no warm-start prior.
   */
  priorTheta: Float64Array | null;
  /**
   * Bit h set: head h (not quality) blends the prior's offline fit, a share a decision leaves as it is, with its
   * live fit on `headsAinv`.
   */
  blendHeads: number;
  /** Per-head constant (the prior's share). */
  offset: Float64Array;
  /** Σ_h sign_h · w_h / ref_h · theta_h: the mean score is one dot product. */
  scoreTheta: Float64Array;
  scoreOffset: number;
  pulls: number;
  /** Pseudo-observations of a warm-start prior (0 without one): an arm with pulls + pseudo = 0 is untried. */
  pseudo: number;
  /** Σ r of the quality head (with its observation count, the Beta counts of beta-ts). */
  qualitySum: number;
  /** Per head: observations (with `pulls`, a measured head's pulls/obs factor; see compileLinearModel). */
  obs: Float64Array;
  /**
   * Bumped by every in-place change of Ainv, headsAinv, theta or the score (applyLocalDecision,
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
  /** False when quality priors exist but the prior gate (priorExcessError) switched them off. */
  priorActive: boolean;
}

/**
 * Compiles additive arm statistics into a decision model.
 *
 * The quality head is a ridge fit on the decisions whose feedback arrived: θ_q = (λI + S_q)⁻¹ b_q, with S_q = Σxxᵀ
 * over its observations (a missing thumb is not a thumbs-down, ALGORITHMS.md §13, and decisions without feedback,
 * pending or of a caller that never sends any, do not move it). The exploration width uses A = λI + Σxxᵀ over
 * every decision (A at decision time, §13). The measured heads solve on A: θ_h = c_h · A⁻¹ b_h with b_h = Σ r_h x
 * (observed only); A⁻¹b_h estimates ρ_h·θ_h, with ρ_h the arrival rate, and c_h = pulls/obs_h undoes that. Heads
 * with a prior are blended toward it with `priorWeight` pseudo-observations. A quality prior (PILOT) enters as
 * A_prior in both the width's A and S_q, and θ_q = (λI + S_q + A_prior)⁻¹(b_q + b_prior), added once, never stored
 * with the statistics (§11). The other heads
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
  const model: LinearModel = { d, arms, refs: headRefs(stats, priors, params.scales), weights, prices: new Float64Array(HEAD_COUNT), priorActive };
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
 * Whether a head other than quality has observations: only then does it need (λI + Σxxᵀ)⁻¹ apart from the width's
 * inverse with the prior (a head without observations has no live part, and a decision leaves it so).
 */
const needsOwnInverse = (s: ArmStats): boolean => {
  for (let h = 0; h < HEAD_COUNT; h++) if (h !== headIndex.quality && s.obs[h] > 0) return true;
  return false;
};

/**
 * The quality head's live and prior coefficients, Q⁻¹b_q and Q⁻¹b_prior with Q = λI + S_q + A_prior (the decisions
 * whose feedback arrived): through `Ainv` when S_q = S (every decision has its one observation: Q is A), else by
 * one Cholesky solve. The prior's are null without a prior.
 */
function* qualityFitSteps(d: number, s: ArmStats, ridge: number, qp: QualityPrior | undefined, Ainv: Float64Array): Steps<[Float64Array, Float64Array | null]> {
  const b = s.xr.subarray(headIndex.quality * d, (headIndex.quality + 1) * d);
  let same = true;
  for (let i = 0; i < d * d && same; i++) same = s.xq[i] === s.xx[i];
  if (same) return [matVec(Ainv, b, d, new Float64Array(d)), qp ? matVec(Ainv, qp.b, d, new Float64Array(d)) : null];
  const Q = Float64Array.from(s.xq);
  for (let i = 0; i < d; i++) Q[i * d + i] += ridge;
  if (qp && qp.weight > 0) for (let i = 0; i < d * d; i++) Q[i] += qp.A[i];
  const [live, prior] = yield* solveSpdSteps(Q, d, qp ? [b, qp.b] : [b]);
  return [live, prior ?? null];
}

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
  const withPrior = qp !== undefined && qp.weight > 0;
  if (withPrior) {
    const own = needsOwnInverse(s) ? yield* invertSpdSteps(A, d) : null;
    for (let i = 0; i < d * d; i++) A[i] += qp.A[i];
    Ainv = yield* invertSpdSteps(A, d);
    headsAinv = own ?? Ainv;
  } else {
    Ainv = headsAinv = yield* invertSpdSteps(A, d);
  }
  const [qualityLive, qualityPrior] = yield* qualityFitSteps(d, s, params.ridge, qp, Ainv);
  const theta = new Float64Array(HEAD_COUNT * d);
  const offset = new Float64Array(HEAD_COUNT);
  const priorTheta = qp ? new Float64Array(HEAD_COUNT * d) : null;
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
    if (quality) th.set(qualityLive);
    else if (obs > 0) {
      const k = debiasFactor(s.pulls, obs) * w;
      matVec(headsAinv, s.xr.subarray(h * d, (h + 1) * d), d, ls);
      for (let i = 0; i < d; i++) th[i] = k * ls[i];
    }
    offset[h] = prior === undefined ? 0 : (1 - w) * prior;
    if (!priorTheta) continue;
    const pt = priorTheta.subarray(h * d, (h + 1) * d);
    if (quality) {
      pt.set(qualityPrior!);
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
    blendHeads,
    offset,
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
  for (const arm of model.arms) rescore(model, arm);
  return model;
}

/** scoreTheta and scoreOffset of one arm from its heads and the model's weights. */
export function rescore(model: LinearModel, arm: CompiledArm): void {
  const { d, refs, weights, prices } = model;
  arm.scoreTheta.fill(0);
  arm.scoreOffset = 0;
  for (let h = 0; h < HEAD_COUNT; h++) {
    const k = HEAD_SIGN[h] * (weights[HEADS[h]] / refs[h] + prices[h]);
    if (k === 0) continue;
    for (let i = 0; i < d; i++) arm.scoreTheta[i] += k * arm.theta[h * d + i];
    arm.scoreOffset += k * arm.offset[h];
  }
  arm.version++;
}

/** The pulls/obs factor compileLinearModel applies to a head (1 when nothing is missing). */
export const debiasFactor = (pulls: number, obs: number): number => (obs > 0 && pulls > obs ? pulls / obs : 1);

/**
 * The live fit's share against a prior worth `weight` observations: obs / (obs + weight), and 0 before any
 * observation (the prior alone, also at weight 0, where the ratio is 0/0).
 */
export const liveShare = (obs: number, weight: number): number => (obs > 0 ? obs / (obs + weight) : 0);
