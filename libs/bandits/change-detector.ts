import { fitTrendLine } from './trend-line.js';

const { abs } = Math;
/**
 * Convergence detector of TI-UCB (ALGORITHMS.md §9, TI3): once an arm has 2w observations, every `every` pulls
 * fit least-squares lines r ~ a·τ + b on the two most recent consecutive windows of w observations; a check
 * passes when their predictions at the windows' last τ differ by less than δ. `checks` consecutive passes
 * (3 by default: the single-check rule flags 25 % of still-rising arms) declare convergence at n − w.
 */
export interface DetectorParams {
  window: number;
  delta: number;
  every: number;
  checks: number;
}

export const DEFAULT_DETECTOR: DetectorParams = { window: 200, delta: 0.03, every: 20, checks: 3 };

/** Least-squares line through (τ_i, r_i) for i in [lo, hi), evaluated at τ_{hi−1}. */
export function lineEnd(taus: ArrayLike<number>, rs: ArrayLike<number>, lo: number, hi: number): number {
  const { mt, mr, slope } = fitTrendLine(taus, rs, lo, hi);
  return mr + (slope ?? 0) * (taus[hi - 1] - mt);
}

/**
 * Runs the detector state forward after observation number `count` (1-based), the newest at index n − 1 of `taus`
 * and `rs` (which may hold only the newest observations: `count` ≥ n). Returns the new run length.
 */
export function detectorStep(taus: ArrayLike<number>, rs: ArrayLike<number>, n: number, run: number, p: DetectorParams, count = n): number {
  const w = p.window;
  if (n < 2 * w || count % p.every !== 0) return run;
  const prev = lineEnd(taus, rs, n - 2 * w, n - w);
  const last = lineEnd(taus, rs, n - w, n);
  return abs(last - prev) < p.delta ? run + 1 : 0;
}

/** First n at which the detector declares convergence on a sequence, or null (used by the TI3 unit test). */
export function detectConvergence(taus: ArrayLike<number>, rs: ArrayLike<number>, p: DetectorParams = DEFAULT_DETECTOR): number | null {
  let run = 0;
  for (let n = 1; n <= rs.length; n++) {
    run = detectorStep(taus, rs, n, run, p);
    if (run >= p.checks) return n;
  }
  return null;
}
