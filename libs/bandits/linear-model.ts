import { type ArmStats } from './arm-stats.js';
import { invertSpd, matVec } from './linalg.js';
import { type Head, HEAD_COUNT, HEAD_SIGN, HEADS, headIndex, type ObjectiveWeights } from './objective.js';

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
 * A_prior (d×d, diagonal: w·I, added to A) and b_prior (added to b_quality), worth `weight` pseudo-observations; `mean` is the
 * prior's own coefficient vector θ⁰ = A_prior⁻¹ b_prior (used by the prior gate). `heads`: the same for the other
 * heads the offline records measured (their cost, energy, latency), b_h = A_prior θ⁰_h on the same A_prior; such a
 * head starts from its offline fit instead of the registry's per-request expectation.
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
   * (λI + Σxxᵀ)⁻¹ for the heads without a warm-start prior of their own (energy, cost, latency when the offline
   * records did not measure them): the prior's pseudo-observations say nothing about such a head and would shrink
   * it toward 0. The same array as `Ainv` without a prior.
   */
  headsAinv: Float64Array;
  /** HEAD_COUNT×d coefficients, de-biased for missing observations and shrunk toward the prior. */
  theta: Float64Array;
  /**
   * HEAD_COUNT×d: per head with a warm-start prior (bit h of `priorHeads`) the prior's share of its coefficients,
   * A⁻¹b_prior (no missing-feedback factor); null when the arm has no warm-start prior (zeros for other heads).
   */
  priorTheta: Float64Array | null;
  /** Bit h set: head h has a warm-start prior and solves with `Ainv`; clear: with `headsAinv`. */
  priorHeads: number;
  /**
   * Bit h set: head h (not quality) has a prior fit and no live observation yet, so θ_h is that fit alone,
   * (λI + A_prior)⁻¹b_h, and a decision leaves it as it is.
   */
  fixedHeads: number;
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
  /** Per head: observations, and whether theta carries the pulls/obs de-bias factor (see compileLinearModel). */
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
  /** False when quality priors exist but the prior gate (priorExcessError) switched them off. */
  priorActive: boolean;
}

/**
 * Compiles additive arm statistics into a decision model.
 *
 * θ_h = c_h · A⁻¹ b_h with A = λI + Σxxᵀ (all decisions) and b_h = Σ r_h x (observed only). Because A counts
 * every decision but b_h only the decisions whose head-h value arrived, A⁻¹b_h estimates ρ_h·θ_h, with ρ_h the
 * arrival rate; c_h = pulls/obs_h undoes that (a missing thumb is not a thumbs-down, ALGORITHMS.md §13). Heads
 * with a prior are blended toward it with `priorWeight` pseudo-observations. A quality prior (PILOT) enters as
 * A += A_prior and θ_q = A⁻¹(c·b_q + b_prior), added once, never stored with the statistics (§11); the same for
 * each other head the prior fitted (logged cost, energy, latency), while a head without one solves with λI + Σxxᵀ
 * alone (the prior's pseudo-observations say nothing about it).
 */
export function compileLinearModel(
  d: number,
  stats: readonly ArmStats[],
  priors: readonly ArmPrior[],
  weights: ObjectiveWeights,
  params: LinearModelParams,
): LinearModel {
  const priorActive = priorExcessError(d, stats, priors) <= 0;
  const scratch = new Float64Array(d * d);
  const arms = stats.map((s, a) => compileArm(d, s, priors[a] ?? {}, priorActive, params, scratch));
  const model: LinearModel = { d, arms, refs: headRefs(stats, priors, params.scales), weights, prices: new Float64Array(HEAD_COUNT), priorActive };
  return reweight(model, weights);
}

/** The per-request expectation of head h (none for quality: its prior is the PILOT statistics). */
const priorOf = (p: ArmPrior, h: number): number | undefined => {
  const head = HEADS[h];
  return head === 'quality' ? undefined : p[head];
};

/** A warm-start prior's b-vector of head h, if it has one. */
const priorB = (qp: QualityPrior, h: number): Float64Array | undefined => {
  const head = HEADS[h];
  return head === 'quality' ? qp.b : qp.heads?.[head];
};

/**
 * Whether a head without a prior fit of its own has observations: only then does it need (λI + Σxxᵀ)⁻¹ apart from
 * the quality head's inverse (a head without observations has θ = 0 whichever inverse, and a decision keeps it 0).
 */
const needsOwnInverse = (qp: QualityPrior, s: ArmStats): boolean => {
  for (let h = 0; h < HEAD_COUNT; h++) if (h !== headIndex.quality && s.obs[h] > 0 && priorB(qp, h) === undefined) return true;
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
  for (let i = 0; i < d * d; i++) A[i] = s.xx[i];
  for (let i = 0; i < d; i++) A[i * d + i] += params.ridge;
  const qp = priorActive ? armPrior.quality : undefined;
  let Ainv: Float64Array;
  let headsAinv: Float64Array;
  if (qp && qp.weight > 0) {
    // The inverse without the prior only where a head without a fit of its own has something to fit.
    const own = needsOwnInverse(qp, s) ? invertSpd(A, d) : null;
    for (let i = 0; i < d * d; i++) A[i] += qp.A[i];
    Ainv = invertSpd(A, d);
    headsAinv = own ?? Ainv;
  } else {
    Ainv = headsAinv = invertSpd(A, d);
  }
  const theta = new Float64Array(HEAD_COUNT * d);
  const offset = new Float64Array(HEAD_COUNT);
  const priorTheta = qp ? new Float64Array(HEAD_COUNT * d) : null;
  let priorHeads = 0;
  let fixedHeads = 0;
  const ls = new Float64Array(d);
  for (let h = 0; h < HEAD_COUNT; h++) {
    const b = qp ? priorB(qp, h) : undefined;
    const obs = s.obs[h];
    const prior = b ? undefined : priorOf(armPrior, h);
    const th = theta.subarray(h * d, (h + 1) * d);
    if (obs > 0) {
      const w = prior === undefined ? 1 : obs / (obs + params.priorWeight);
      const k = debiasFactor(s.pulls, obs) * w;
      matVec(b ? Ainv : headsAinv, s.xr.subarray(h * d, (h + 1) * d), d, ls);
      for (let i = 0; i < d; i++) th[i] = k * ls[i];
      offset[h] = prior === undefined ? 0 : (1 - w) * prior;
    } else {
      offset[h] = prior ?? 0;
    }
    if (b && qp && priorTheta && obs === 0 && h !== headIndex.quality) {
      // Nothing measured live yet (cost and latency arrive only with proxied calls): the offline fit as it is,
      // (λI + A_prior)⁻¹ b_h, not diluted by decisions whose value of this head never comes.
      for (let i = 0; i < d; i++) th[i] = b[i] / (params.ridge + qp.A[i * d + i]);
      fixedHeads |= 1 << h;
    } else if (b && priorTheta) {
      const pt = matVec(Ainv, b, d, priorTheta.subarray(h * d, (h + 1) * d));
      for (let i = 0; i < d; i++) th[i] += pt[i];
      priorHeads |= 1 << h;
    }
  }
  return {
    Ainv,
    headsAinv,
    theta,
    priorTheta,
    priorHeads,
    fixedHeads,
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
