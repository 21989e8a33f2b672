const { abs, exp } = Math;

/**
 * Standard normal CDF Φ(z), by the complementary error function of Numerical Recipes (3rd ed., §6.2.2, `erfcc`,
 * Chebyshev fit, fractional error < 1.2e-7 everywhere). Used for closed-form propensities of Gaussian draws.
 */
export function normalCdf(z: number): number {
  const x = abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -x * x -
    1.26551223 +
    t *
      (1.00002368 +
        t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * exp(poly);
  return z >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
}
