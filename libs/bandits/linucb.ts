import { epsilonArgmax } from './choose.js';
import { type Decision, type ArmEstimate } from './decision.js';
import { debiasFactor, type LinearModel, rescore } from './linear-model.js';
import { dot, symQuadForm } from './linalg.js';
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
export function decideLinUcb(
  model: LinearModel,
  x: Float64Array,
  candidates: readonly number[],
  params: LinUcbParams,
  rng: Rng,
): Decision {
  return decideLinear(model, x, candidates, params.alpha, params.epsilon, rng);
}

/** Shared by LinUCB (α > 0) and linear ε-greedy (α = 0). */
export function decideLinear(
  model: LinearModel,
  x: Float64Array,
  candidates: readonly number[],
  alpha: number,
  epsilon: number,
  rng: Rng,
): Decision {
  const n = candidates.length;
  const estimates = linearEstimates(model, x, candidates, alpha > 0);
  const scores = new Float64Array(n);
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
 * width ‖x‖_{A⁻¹} in `bonus` (unscaled), `score` = mean. Shared by every policy on the linear statistics.
 */
export function linearEstimates(model: LinearModel, x: Float64Array, candidates: readonly number[], widths: boolean): ArmEstimate[] {
  const { d } = model;
  const n = candidates.length;
  const estimates: ArmEstimate[] = new Array(n);
  for (let c = 0; c < n; c++) {
    const a = candidates[c];
    const arm = model.arms[a];
    const t = arm.theta;
    const st = arm.scoreTheta;
    let mean = arm.scoreOffset;
    let q = arm.offset[0];
    let e = arm.offset[1];
    let k = arm.offset[2];
    let l = arm.offset[3];
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      mean += st[i] * xi;
      q += t[i] * xi;
      e += t[d + i] * xi;
      k += t[2 * d + i] * xi;
      l += t[3 * d + i] * xi;
    }
    const width = widths ? sqrt(max(0, symQuadForm(arm.Ainv, x, d))) : 0;
    estimates[c] = { arm: a, quality: q, energy: e, cost: k, latency: l, mean, bonus: width, score: mean };
  }
  return estimates;
}

/**
 * Applies this replica's own decision to its compiled copy before the merged state comes back (A at decision
 * time, ALGORITHMS.md §13): Sherman–Morrison on A⁻¹, the matching O(d) correction of every coefficient vector,
 * θ ← θ − z·(xᵀθ)/(1 + xᵀz) with z = A⁻¹x, and the head's missing-feedback factor moved from pulls/obs to
 * (pulls+1)/obs. The result equals compiling the statistics with this decision added. `z`: scratch of length d.
 */
export function applyLocalDecision(model: LinearModel, armIndex: number, x: Float64Array, z: Float64Array): void {
  const { d } = model;
  const arm = model.arms[armIndex];
  const Ainv = arm.Ainv;
  for (let i = 0; i < d; i++) {
    let s = 0;
    const row = i * d;
    for (let j = 0; j < d; j++) s += Ainv[row + j] * x[j];
    z[i] = s;
  }
  const k = 1 / (1 + dot(x, z, d));
  for (let i = 0; i < d; i++) {
    const zi = z[i] * k;
    const row = i * d;
    for (let j = 0; j < d; j++) Ainv[row + j] -= zi * z[j];
  }
  const heads = arm.theta.length / d;
  for (let h = 0; h < heads; h++) {
    const rescale = debiasFactor(arm.pulls + 1, arm.obs[h]) / debiasFactor(arm.pulls, arm.obs[h]);
    const f = dot(x, arm.theta, d, h * d) * k;
    for (let i = 0; i < d; i++) arm.theta[h * d + i] = rescale * (arm.theta[h * d + i] - f * z[i]);
  }
  arm.pulls += 1;
  rescore(model, arm);
}
