import { epsilonArgmax } from './choose.js';
import { type Decision, type ArmEstimate } from './decision.js';
import { KERNEL_OUT, KERNEL_OUT_INDEX, kernelEstimates } from './decision-kernel.js';
import { arrivalIntercepts, arrivalShare, missingFactor } from './arrival-fit.js';
import { type LinearModel, rescore } from './linear-model.js';
import { dot, shermanMorrison, symQuadForm } from './linalg.js';
import { HEAD_COUNT, headIndex } from './objective.js';
import { type Rng } from './prng.js';

const { max, sqrt } = Math;

export interface LinUcbParams {
  /** Width multiplier α. Keep α/√λ_reg ≥ the reward range (ALGORITHMS.md §1, pitfall 1). */
  alpha: number;
  /** Uniform mixing so every decision has a loggable propensity (≥ 0.02 recommended). */
  epsilon: number;
}

/**
 * Disjoint LinUCB (Li, Chu, Langford, Schapire, WWW 2010), multi-head: p_a(x) = s_a(x) + α·√(xᵀA_a⁻¹x) where
 * s_a is the weighted sum of the per-head predictions (ALGORITHMS.md §0–§1), then ε-mixed argmax over the
 * candidates (arm indices). Cost: O(K·d²/2) for the widths plus O(K·d) per head.
 */
export function decideLinUcb(model: LinearModel, x: Float64Array, candidates: readonly number[], params: LinUcbParams, rng: Rng): Decision {
  return decideLinear(model, x, candidates, params.alpha, params.epsilon, rng);
}

/** Scratch for the candidates' scores (decisions run one at a time). */
let scores = new Float64Array(64);

/** Shared by LinUCB (α > 0) and linear ε-greedy (α = 0). */
export function decideLinear(model: LinearModel, x: Float64Array, candidates: readonly number[], alpha: number, epsilon: number, rng: Rng): Decision {
  const n = candidates.length;
  const estimates = linearEstimates(model, x, candidates, alpha > 0);
  if (scores.length < n) scores = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const e = estimates[c];
    e.bonus *= alpha;
    e.score = e.mean + e.bonus;
    scores[c] = e.score;
  }
  const { pick, propensity } = epsilonArgmax(scores, n, epsilon, rng);
  return { arm: candidates[pick], propensity, estimates };
}

/**
 * Per candidate: the four head predictions and the scalarised mean in one pass over x, and (when `widths`) the
 * width ‖x‖_{A⁻¹} in `bonus` (unscaled), `score` = mean. Shared by every policy on the linear statistics. Runs the
 * WebAssembly SIMD kernel (decision-kernel.ts) where it can, else {@link linearEstimatesReference}; the two agree
 * to rounding.
 */
export function linearEstimates(model: LinearModel, x: Float64Array, candidates: readonly number[], widths: boolean): ArmEstimate[] {
  const out = kernelEstimates(model, x, candidates, widths);
  if (out === null) return linearEstimatesReference(model, x, candidates, widths);
  const n = candidates.length;
  const estimates = new Array<ArmEstimate>(n);
  for (let c = 0, o = KERNEL_OUT_INDEX; c < n; c++, o += KERNEL_OUT) {
    const a = candidates[c];
    const width = widths ? sqrt(max(0, out[o + KERNEL_OUT - 1])) : 0;
    estimates[c] = armEstimate(model, a, out, o, width);
  }
  return estimates;
}

/** Scratch of armEstimate's head values. */
const headValues = new Float64Array(HEAD_COUNT);

/** Scratch of the reference's products (one layout with the kernel's output). */
let products = new Float64Array(KERNEL_OUT);

/** The plain TypeScript form of {@link linearEstimates} (the reference the kernel is tested against). */
export function linearEstimatesReference(model: LinearModel, x: Float64Array, candidates: readonly number[], widths: boolean): ArmEstimate[] {
  const { d } = model;
  const n = candidates.length;
  const estimates = new Array<ArmEstimate>(n);
  if (products.length < KERNEL_OUT) products = new Float64Array(KERNEL_OUT);
  for (let c = 0; c < n; c++) {
    const a = candidates[c];
    const arm = model.arms[a];
    const p = products;
    p.fill(0);
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      p[0] += arm.scoreTheta[i] * xi;
      for (let h = 0; h < HEAD_COUNT; h++) {
        const j = h * d + i;
        p[1 + h] += arm.theta[j] * xi;
        if (arm.priorTheta) p[1 + HEAD_COUNT + h] += arm.priorTheta[j] * xi;
        p[1 + 2 * HEAD_COUNT + h] += arm.seen[j] * xi;
      }
      p[1 + 3 * HEAD_COUNT] += arm.visits[i] * xi;
    }
    const width = widths ? sqrt(max(0, symQuadForm(arm.Ainv, x, d))) : 0;
    estimates[c] = armEstimate(model, a, p, 0, width);
  }
  return estimates;
}

/**
 * One arm's estimate from its products with x (the kernel's layout from `o`: θ_sᵀx, θ_hᵀx, θ_prior,hᵀx, seen_hᵀx per
 * head, visitsᵀx): head h is offset_h + θ_hᵀx + (c_h(x) − 1)·(θ_h − θ_prior,h)ᵀx, the mean θ_sᵀx + scoreOffset plus
 * each head's factor times its missing-feedback term (nothing when every value arrived).
 */
function armEstimate(model: LinearModel, a: number, p: Float64Array, o: number, width: number): ArmEstimate {
  const arm = model.arms[a];
  const { pulls, obs, offset } = arm;
  const heads = headValues;
  let mean = arm.scoreOffset + p[o];
  for (let h = 0; h < HEAD_COUNT; h++) {
    const thetaX = p[o + 1 + h];
    heads[h] = offset[h] + thetaX;
    const n = obs[h];
    if (!(n > 0 && pulls > n)) continue; // every value arrived: the factor is 1
    const share = arrivalShare(p[o + 1 + 3 * HEAD_COUNT], p[o + 1 + 2 * HEAD_COUNT + h], arm.intercepts, h);
    const extra = (missingFactor(pulls, n, share) - 1) * (thetaX - p[o + 1 + HEAD_COUNT + h]);
    heads[h] += extra;
    mean += model.headK[h] * extra;
  }
  const { quality, energy, cost, latency } = headIndex;
  return { arm: a, quality: heads[quality], energy: heads[energy], cost: heads[cost], latency: heads[latency], mean, bonus: width, score: mean };
}

/**
 * Applies this replica's own decision to its compiled copy before the merged state comes back (A at decision
 * time, ALGORITHMS.md §13): Sherman–Morrison on A⁻¹ (and on the inverse without the prior, when a warm-start prior
 * keeps it apart), the matching O(d) correction of every coefficient vector, θ ← θ − z·(xᵀθ)/(1 + xᵀz) with
 * z = A⁻¹x (the arrival fits `seen` too, and `visits` ← visits − z·(xᵀvisits)/(1 + xᵀz) + z/(1 + xᵀz), its Σx having
 * gained x), and one more pull (the bound of the missing-feedback factor). The result equals compiling the
 * statistics with this decision added. `z`: scratch of length 2d (d without a prior).
 */
export function applyLocalDecision(model: LinearModel, armIndex: number, x: Float64Array, z: Float64Array): void {
  const { d } = model;
  const arm = model.arms[armIndex];
  const zq = z.subarray(0, d);
  const kq = 1 / shermanMorrison(arm.Ainv, x, d, zq);
  let zh = zq;
  let kh = kq;
  if (arm.headsAinv !== arm.Ainv) {
    zh = z.length >= 2 * d ? z.subarray(d, 2 * d) : new Float64Array(d);
    kh = 1 / shermanMorrison(arm.headsAinv, x, d, zh);
  }
  const heads = arm.theta.length / d;
  for (let h = 0; h < heads; h++) {
    const moving = ((arm.priorHeads >> h) & 1) === 1;
    const blended = ((arm.blendHeads >> h) & 1) === 1;
    const zz = moving ? zq : zh;
    const k = moving ? kq : kh;
    const prior = (moving || blended) && arm.priorTheta ? arm.priorTheta.subarray(h * d, (h + 1) * d) : null;
    const o = h * d;
    if (prior) for (let i = 0; i < d; i++) arm.theta[o + i] -= prior[i];
    const f = dot(x, arm.theta, d, o) * k;
    for (let i = 0; i < d; i++) arm.theta[o + i] -= f * zz[i];
    const fs = dot(x, arm.seen, d, o) * kh;
    for (let i = 0; i < d; i++) arm.seen[o + i] -= fs * zh[i];
    if (prior) {
      const fp = moving ? dot(x, prior, d) * k : 0;
      for (let i = 0; i < d; i++) {
        prior[i] -= fp * zz[i];
        arm.theta[o + i] += prior[i];
      }
    }
  }
  const fv = dot(x, arm.visits, d) * kh;
  for (let i = 0; i < d; i++) arm.visits[i] += (kh - fv) * zh[i];
  for (let i = 0; i < d; i++) arm.arrivals[i] += x[i];
  arm.pulls += 1;
  const xo = arm.arrivals.subarray(d);
  arrivalIntercepts(arm.visits, arm.arrivals.subarray(0, d), xo, arm.pulls, arm.obs, model.ridge, arm.intercepts);
  rescore(model, arm);
}
