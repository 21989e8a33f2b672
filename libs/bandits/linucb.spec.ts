import { runL3 } from './testing/run-l3.js';
import { runLinUcbL1 } from './testing/run-linear.js';

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const seeds = (n: number, base = 0) => Array.from({ length: n }, (_, i) => base + i);

// Thresholds: ALGORITHMS.md §15, checked against this PRNG (observed values in comments, 40 / 50 / 200 fixed seeds).
describe('LinUCB (ALGORITHMS.md §15)', () => {
  it('L1: α = 0.5 reaches low regret and picks the per-context best arm (40 seeds)', () => {
    const runs = seeds(40).map((s) => runLinUcbL1(s, { alpha: 0.5 }));
    const regrets = runs.map((r) => r.regret);
    // observed: mean 21.0, max 43.2, share 0.946 (numpy sim: 18.9, 28.5, 0.946); uniform random ≈ 2447
    expect(mean(regrets)).toBeLessThan(30);
    expect(Math.max(...regrets)).toBeLessThan(60);
    expect(mean(runs.map((r) => r.bestShare))).toBeGreaterThan(0.93);
  });

  it('L3: energy/quality heads scalarised at decision time find the per-task optimum (λ = 0.5)', () => {
    const runs = seeds(50).map((s) => runL3(s, 0.5));
    // observed 0.968 (numpy sim 0.976)
    expect(mean(runs.map((r) => r.share))).toBeGreaterThan(0.95);
    for (const r of runs) expect(r.minUntriedIndex).toBeGreaterThanOrEqual(1 - 1e-12);
  });

  it('L3: quality only (λ = 0), 200 seeds', () => {
    // The 50-seed mean of this share moves by ±0.02 between seed sets (gap 0.05 on Bernoulli rewards), so the
    // spec threshold is asserted over 200 fixed seeds. Observed 0.887 here (numpy sim, 50 seeds: 0.923).
    const runs = seeds(200).map((s) => runL3(s, 0));
    expect(mean(runs.map((r) => r.share))).toBeGreaterThan(0.88);
    for (const r of runs) expect(r.minUntriedIndex).toBeGreaterThanOrEqual(1 - 1e-12);
  });

  it('L3: the GreenServ defaults (α = 0.1, λ_reg = 0.05) lock in, which is why our defaults differ', () => {
    const runs = seeds(50).map((s) => runL3(s, 0, { alpha: 0.1, ridge: 0.05 }));
    // observed 0.484 (numpy sim 0.258): far below what α = 1 reaches
    expect(mean(runs.map((r) => r.share))).toBeLessThan(0.7);
  });

  it('D1: updating A at decision time beats the naive delayed update (20 seeds)', () => {
    for (const [delay, ratio] of [
      [100, 0.6],
      [500, 0.45],
    ] as const) {
      const naive = mean(seeds(20).map((s) => runLinUcbL1(s, { alpha: 0.5, delay, aAtDecision: false }).regret));
      const early = mean(seeds(20).map((s) => runLinUcbL1(s, { alpha: 0.5, delay, aAtDecision: true }).regret));
      // observed: D=100 156.5 vs 69.4 (0.44); D=500 782.4 vs 271.7 (0.35)
      expect(early).toBeLessThanOrEqual(ratio * naive);
    }
  });
});
