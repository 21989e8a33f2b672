import { dot } from './linalg.js';
import { HEAD_COUNT } from './objective.js';

const { max, min } = Math;

/**
 * Where an arm's values arrive (ALGORITHMS.md §13, "missing ≠ negative"). A is counted at every decision and b_h
 * only where head h's value arrived, so xᵀA⁻¹b_h estimates ρ_h(x)·y_h(x), with ρ_h(x) the share of decisions near x
 * whose value arrived. ρ_h(x) is estimated by two ridge fits on the same A, with an intercept (so it does not
 * depend on the features holding a constant): of 1 over the arm's decisions and of "arrived" over head h's
 * observations. With ψ = A⁻¹Σx (`visits`), φ_h = A⁻¹Σ_h x (`seen`), n decisions, o_h observations and ridge λ on the
 * intercept too, the Schur complement g + λ with g = n − ψᵀΣx gives the intercepts β = g/(g + λ) and
 * β_h = (o_h − ψᵀΣ_h x)/(g + λ), and the fits at x are
 *   all(x) = xᵀψ + β·(1 − xᵀψ),   seen_h(x) = xᵀφ_h + β_h·(1 − xᵀψ).
 * The kernel computes xᵀψ and xᵀφ_h; the intercepts are per arm, set at compile time and by a local decision.
 */

/** The intercepts [β, β_h…] of an arm's arrival fits (see the file comment), into `out`. */
export function arrivalIntercepts(
  visits: Float64Array,
  xs: Float64Array,
  xo: Float64Array,
  pulls: number,
  obs: Float64Array,
  ridge: number,
  out: Float64Array,
): Float64Array {
  const d = visits.length;
  const g = pulls - dot(visits, xs, d);
  const s = max(g + ridge, 1e-12);
  out[0] = g / s;
  for (let h = 0; h < HEAD_COUNT; h++) out[1 + h] = obs[h] > 0 ? (obs[h] - dot(visits, xo, d, h * d)) / s : 0;
  return out;
}

/** ρ̂_h(x) from the kernel's xᵀψ and xᵀφ_h and the arm's intercepts; 0 where the fit of 1 is not positive. */
export function arrivalShare(visitsX: number, seenX: number, intercepts: Float64Array, h: number): number {
  const rest = 1 - visitsX;
  const all = visitsX + intercepts[0] * rest;
  return all > 0 ? (seenX + intercepts[1 + h] * rest) / all : 0;
}

/** An arm's pulls/obs for a head: the bound of its missing-feedback factor (1 when nothing is missing). */
export const debiasFactor = (pulls: number, obs: number): number => (obs > 0 && pulls > obs ? pulls / obs : 1);

/**
 * The missing-feedback factor of a head at a context where ρ̂ = `share`: 1/ρ̂, kept within [1, pulls/obs]. When values
 * arrive at the same rate everywhere it is pulls/obs; when decisions without feedback crowd one region (a caller
 * that never sends any), they raise it there, not at the contexts whose feedback arrives. Where the fits say nothing
 * (ρ̂ not positive), pulls/obs. The bound keeps a region without any feedback from a ratio of two small fits, and
 * leaves a region rated less often than the arm's average de-biased by the average only.
 */
export function missingFactor(pulls: number, obs: number, share: number): number {
  const bound = debiasFactor(pulls, obs);
  if (bound === 1) return 1;
  return share > 0 ? min(bound, max(1, 1 / share)) : bound;
}
