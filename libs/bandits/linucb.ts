import { epsilonArgmax } from './choose.js';
import { type Decision, type ArmEstimate } from './decision.js';
import { KERNEL_OUT, KERNEL_OUT_INDEX, kernelEstimates } from './decision-kernel.js';
import { debiasFactor, type LinearModel, rescore } from './linear-model.js';
import { dot, shermanMorrison, symQuadForm } from './linalg.js';
import { headIndex } from './objective.js';
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
  const [q, e, k, l] = [headIndex.quality, headIndex.energy, headIndex.cost, headIndex.latency];
  for (let c = 0, o = KERNEL_OUT_INDEX; c < n; c++, o += KERNEL_OUT) {
    const a = candidates[c];
    const arm = model.arms[a];
    const off = arm.offset;
    const mean = arm.scoreOffset + out[o];
    const width = widths ? sqrt(max(0, out[o + 5])) : 0;
    estimates[c] = {
      arm: a,
      quality: off[q] + out[o + 1 + q],
      energy: off[e] + out[o + 1 + e],
      cost: off[k] + out[o + 1 + k],
      latency: off[l] + out[o + 1 + l],
      mean,
      bonus: width,
      score: mean,
    };
  }
  return estimates;
}

/** The plain TypeScript form of {@link linearEstimates} (the reference the kernel is tested against). */
export function linearEstimatesReference(model: LinearModel, x: Float64Array, candidates: readonly number[], widths: boolean): ArmEstimate[] {
  const { d } = model;
  const n = candidates.length;
  const estimates = new Array<ArmEstimate>(n);
  const [oq, oe, ok, ol] = [headIndex.quality * d, headIndex.energy * d, headIndex.cost * d, headIndex.latency * d];
  for (let c = 0; c < n; c++) {
    const a = candidates[c];
    const arm = model.arms[a];
    const t = arm.theta;
    const st = arm.scoreTheta;
    let mean = arm.scoreOffset;
    let q = arm.offset[headIndex.quality];
    let e = arm.offset[headIndex.energy];
    let k = arm.offset[headIndex.cost];
    let l = arm.offset[headIndex.latency];
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      mean += st[i] * xi;
      q += t[oq + i] * xi;
      e += t[oe + i] * xi;
      k += t[ok + i] * xi;
      l += t[ol + i] * xi;
    }
    const width = widths ? sqrt(max(0, symQuadForm(arm.Ainv, x, d))) : 0;
    estimates[c] = { arm: a, quality: q, energy: e, cost: k, latency: l, mean, bonus: width, score: mean };
  }
  return estimates;
}

/**
 * Applies this replica's own decision to its compiled copy before the merged state comes back (A at decision
 * time, ALGORITHMS.md §13): Sherman–Morrison on A⁻¹ (the width's; and on the measured heads' inverse without the
 * prior, when a warm-start prior keeps it apart), the matching O(d) correction of each measured head's coefficient
 * vector, θ ← θ − z·(xᵀθ)/(1 + xᵀz) with z = A⁻¹x, and its missing-feedback factor moved from pulls/obs to
 * (pulls+1)/obs (not on a prior's share). The quality head solves on its observations alone: a decision leaves it as
 * it is. The result equals compiling the statistics with this decision added. `z`: scratch of length 2d (d without
 * a prior).
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
    if (h === headIndex.quality) continue;
    const blended = ((arm.blendHeads >> h) & 1) === 1;
    const prior = blended && arm.priorTheta ? arm.priorTheta.subarray(h * d, (h + 1) * d) : null;
    const rescale = debiasFactor(arm.pulls + 1, arm.obs[h]) / debiasFactor(arm.pulls, arm.obs[h]);
    const o = h * d;
    if (prior) for (let i = 0; i < d; i++) arm.theta[o + i] -= prior[i];
    const f = dot(x, arm.theta, d, o) * kh;
    for (let i = 0; i < d; i++) arm.theta[o + i] = rescale * (arm.theta[o + i] - f * zh[i]);
    if (prior) for (let i = 0; i < d; i++) arm.theta[o + i] += prior[i];
  }
  arm.pulls += 1;
  rescore(model, arm);
}
