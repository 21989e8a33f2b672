/**
 * Ordinary least-squares line r ≈ mr + slope·(τ − mt) through the points (τ_i, r_i), i ∈ [lo, hi): the fit both
 * TI-UCB's prediction and its convergence detector use (ALGORITHMS.md §9). `slope` is null when every τ is the same.
 */
export interface TrendLine {
  mt: number;
  mr: number;
  slope: number | null;
}

export function fitTrendLine(taus: ArrayLike<number>, rs: ArrayLike<number>, lo: number, hi: number): TrendLine {
  const n = hi - lo;
  let mt = 0;
  let mr = 0;
  for (let i = lo; i < hi; i++) {
    mt += taus[i];
    mr += rs[i];
  }
  mt /= n;
  mr /= n;
  let stt = 0;
  let str = 0;
  for (let i = lo; i < hi; i++) {
    const dt = taus[i] - mt;
    stt += dt * dt;
    str += dt * (rs[i] - mr);
  }
  return { mt, mr, slope: stt > 0 ? str / stt : null };
}
