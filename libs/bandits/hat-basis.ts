const { max, min } = Math;

/**
 * Piecewise-linear "hat" basis over sorted knots k₀ < … < k_{m−1}: φ_j(s) is 1 at k_j, falls linearly to 0 at the
 * neighbouring knots and is 0 elsewhere; values outside [k₀, k_{m−1}] are clamped to the end knots. The m values
 * sum to 1, so a linear model over them is a piecewise-linear function of s with one free value per knot, fitted
 * by plain (additive) ridge regression. Writes m values into `out` from `offset`; returns the next offset.
 */
export function hatBasis(s: number, knots: readonly number[], out: Float64Array, offset: number): number {
  const m = knots.length;
  for (let j = 0; j < m; j++) out[offset + j] = 0;
  const v = min(max(s, knots[0]), knots[m - 1]);
  if (m === 1 || !Number.isFinite(v)) {
    out[offset] = 1;
    return offset + m;
  }
  let j = 0;
  while (j < m - 2 && v > knots[j + 1]) j++;
  const w = (v - knots[j]) / (knots[j + 1] - knots[j]);
  out[offset + j] = 1 - w;
  out[offset + j + 1] = w;
  return offset + m;
}

/** m evenly spaced knots over [lo, hi]. */
export const evenKnots = (lo: number, hi: number, m: number): number[] => Array.from({ length: m }, (_, j) => lo + ((hi - lo) * j) / (m - 1));
