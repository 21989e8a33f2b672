import { type ArmStats, emptyArmStats, recordDecision, recordObservation } from './arm-stats.js';
import { invertSpd, matVec, symQuadForm } from './linalg.js';
import { normalCdf } from './normal-cdf.js';
import { type LinearModel } from './linear-model.js';
import { headIndex } from './objective.js';
import { type Rng } from './prng.js';

const { max, min, sqrt } = Math;

/**
 * Learned escalation for a two-stage cascade (ALGORITHMS.md §14, stage 2): after the first model answers, accept
 * its answer or call a second model. z is the prompt's and the answer's signals; φ(z) is its feature vector
 * (expanded by the caller, e.g. with hatBasis so each confidence signal gets a piecewise-linear effect).
 *
 * Two value heads, each a ridge regression on additive statistics (the arm statistics of §1/§11, quality head
 * only, so shards and replicas merge by addition and the log rebuilds them exactly):
 * - `first`: ĝ₁(φ) = E[q of the first answer | φ], learnt from accepted answers and from audited escalations;
 * - `second`: ĝ₂(φ) = E[q of the escalated (final) answer | φ], learnt from escalations.
 *
 * Decision: escalate iff a Thompson draw of the gain ĝ₂ − ĝ₁ exceeds `threshold`, the extra call's price in quality
 * units (λ_c·c₂ + λ_e·e₂, so the dual price of §10a moves it). For one φ the draw θ̃ ~ N(θ̂, v²A⁻¹) per head makes
 * the gain exactly N(μ, v²(‖φ‖²_{A₁⁻¹} + ‖φ‖²_{A₂⁻¹})), so the propensity is closed form: Φ((μ − threshold)/sd),
 * mixed with ε uniform over the two actions.
 *
 * Censoring (§14): an escalated query never shows the first answer to the user, so ĝ₁ would only ever see the
 * answers it accepted. A random ρ-share of escalations is audited (the first answer is judged too). §14 weights
 * audited samples 1/ρ; we learn them unweighted instead, on purpose: whether a first answer is seen depends only on
 * φ (and the policy's own randomness), so it is missing at random given φ, and a regression of q on φ that is
 * flexible in the confidence signals (hatBasis) stays unbiased without reweighting, while a 1/ρ weight multiplies
 * the variance of the fit in the escalated region by about 1/ρ (test C1: max |τ̂ − τ*| 0.035 unweighted, 0.068
 * weighted). `weight` remains for callers that need the population fit of a misspecified model.
 */
export interface EscalationParams {
  /** Ridge λ_reg of both heads. */
  ridge: number;
  /** Posterior scale v of the Thompson draw (about the quality noise SD). */
  v: number;
  /** Share of decisions taken uniformly at random (a propensity floor of ε/2 for off-policy evaluation). */
  epsilon: number;
}

export const DEFAULT_ESCALATION_PARAMS: EscalationParams = { ridge: 1, v: 0.5, epsilon: 0.02 };

/** The two heads' additive statistics: [first answer's quality, escalated answer's quality]. */
export interface EscalationStats {
  d: number;
  first: ArmStats;
  second: ArmStats;
}

export type EscalationHead = 'first' | 'second';

export function emptyEscalationStats(d: number): EscalationStats {
  return { d, first: emptyArmStats(d), second: emptyArmStats(d) };
}

/**
 * Learns one observed quality q ∈ [0, 1] of a head for features φ, with importance weight w (default 1, audited first
 * answers included; see censoring above): A += w φφᵀ, b += w q φ.
 */
export function recordEscalationOutcome(stats: EscalationStats, head: EscalationHead, phi: ArrayLike<number>, quality: number, weight = 1): void {
  const r = sqrt(weight);
  const x = Float64Array.from(phi, (v) => v * r);
  const s = stats[head];
  recordDecision(s, x);
  recordObservation(s, x, headIndex.quality, quality * r);
}

/** One compiled head: A⁻¹ and θ̂ = A⁻¹b. Derived data, rebuilt from the statistics, never stored. */
export interface EscalationHeadModel {
  Ainv: Float64Array;
  theta: Float64Array;
  /** Constant part of the prediction (a compiled policy arm's prior share); 0 when absent. */
  offset?: number;
}

export interface EscalationModel {
  d: number;
  first: EscalationHeadModel;
  second: EscalationHeadModel;
}

function compileHead(d: number, s: ArmStats, ridge: number): EscalationHeadModel {
  const A = Float64Array.from(s.xx);
  for (let i = 0; i < d; i++) A[i * d + i] += ridge;
  const Ainv = invertSpd(A, d);
  const off = headIndex.quality * d;
  const theta = matVec(Ainv, s.xr.subarray(off, off + d), d, new Float64Array(d));
  return { Ainv, theta };
}

export function compileEscalation(stats: EscalationStats, params: Pick<EscalationParams, 'ridge'>): EscalationModel {
  return { d: stats.d, first: compileHead(stats.d, stats.first, params.ridge), second: compileHead(stats.d, stats.second, params.ridge) };
}

export interface EscalationEstimate {
  /** ĝ₁(φ), ĝ₂(φ): predicted quality of accepting and of escalating. */
  first: number;
  second: number;
  /** SD of the Thompson draw of the gain ĝ₂ − ĝ₁. */
  sd: number;
}

export function escalationEstimate(model: EscalationModel, phi: Float64Array, v: number): EscalationEstimate {
  const d = model.d;
  let first = 0;
  let second = 0;
  for (let i = 0; i < d; i++) {
    first += model.first.theta[i] * phi[i];
    second += model.second.theta[i] * phi[i];
  }
  const variance = symQuadForm(model.first.Ainv, phi, d) + symQuadForm(model.second.Ainv, phi, d);
  return { first: first + (model.first.offset ?? 0), second: second + (model.second.offset ?? 0), sd: v * sqrt(max(0, variance)) };
}

export interface EscalationDecision extends EscalationEstimate {
  escalate: boolean;
  /** Probability of the action taken (never below ε/2). */
  propensity: number;
  /** Probability of escalating, whatever was taken. */
  pEscalate: number;
}

/**
 * Accept or escalate for features φ, escalating iff the drawn gain exceeds `threshold` (see the module comment).
 */
export function decideEscalation(model: EscalationModel, phi: Float64Array, threshold: number, params: EscalationParams, rng: Rng): EscalationDecision {
  const est = escalationEstimate(model, phi, params.v);
  const mu = est.second - est.first;
  const pPolicy = est.sd > 0 ? normalCdf((mu - threshold) / est.sd) : mu > threshold ? 1 : 0;
  const pEscalate = min(1, max(0, (1 - params.epsilon) * pPolicy + params.epsilon / 2));
  const escalate = rng.next() < params.epsilon ? rng.next() < 0.5 : mu + est.sd * rng.normal() > threshold;
  return { ...est, escalate, pEscalate, propensity: escalate ? pEscalate : 1 - pEscalate };
}

/**
 * The same decision on a policy's compiled linear statistics (the service's escalation policy: one arm per model,
 * learning the quality of that model's final answers at φ): ĝ₁ is the quality head of the arm that answered, ĝ₂ that
 * of the escalation target. The quality heads only: the price of the call is `threshold`, from the router.
 */
export function decideEscalationBetween(
  model: LinearModel,
  phi: Float64Array,
  answered: number,
  next: number,
  threshold: number,
  params: EscalationParams,
  rng: Rng,
): EscalationDecision {
  const q = headIndex.quality;
  const head = (a: number): EscalationHeadModel => {
    const arm = model.arms[a];
    return { Ainv: arm.Ainv, theta: arm.theta.subarray(q * model.d, (q + 1) * model.d), offset: arm.offset[q] };
  };
  return decideEscalation({ d: model.d, first: head(answered), second: head(next) }, phi, threshold, params, rng);
}
