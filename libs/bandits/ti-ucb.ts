import { DEFAULT_DETECTOR, detectorStep, type DetectorParams } from './change-detector.js';
import { fitTrendLine } from './trend-line.js';

const { SQRT2, log, max, min, sqrt } = Math;

export interface TiUcbParams extends DetectorParams {
  /** Exploration constant c of the index c·√(ln t / n). */
  c: number;
  /** Observations each arm gets round-robin before the index is used. */
  warmPulls: number;
}

export const DEFAULT_TI_UCB: TiUcbParams = { ...DEFAULT_DETECTOR, c: SQRT2, warmPulls: 2 };

/**
 * One arm of TI-UCB (ALGORITHMS.md §9, our reconstruction of Xia et al., WWW 2024): the arm's observations
 * (τ = the global round, the restless reading), the detector's run of passing checks, and `convergedAt`.
 * Order-dependent (§11): one writer per arm on the ordered event stream. Only the newest observations that the
 * windows read are kept (at most 4w: the detector reads the last 2w, the prediction the last w), so an arm's
 * memory does not grow with its pulls.
 */
export class TiUcbArm {
  /** Observation number of taus[0] (0-based count of those dropped). */
  private offset = 0;
  private taus: number[] = [];
  private rewards: number[] = [];
  convergedAt: number | null = null;
  private run = 0;
  private sumSince = 0;

  get pulls(): number {
    return this.offset + this.rewards.length;
  }

  /** τ of the newest observation (−∞ before any). */
  get lastTau(): number {
    return this.taus.length === 0 ? -Infinity : this.taus[this.taus.length - 1];
  }

  observe(tau: number, r: number, p: DetectorParams): void {
    this.taus.push(tau);
    this.rewards.push(r);
    if (this.convergedAt !== null) this.sumSince += r;
    else {
      const n = this.pulls;
      this.run = detectorStep(this.taus, this.rewards, this.rewards.length, this.run, p, n);
      if (this.run >= p.checks) {
        this.convergedAt = n - p.window;
        for (let i = this.convergedAt - this.offset; i < this.rewards.length; i++) this.sumSince += this.rewards[i];
      }
    }
    if (this.rewards.length >= 4 * p.window) this.drop(this.rewards.length - 2 * p.window);
  }

  /** Predicted reward at round t: the window's line (slope clipped at ≥ 0) or, once converged, the mean since. */
  predict(t: number, window: number): number {
    const n = this.rewards.length;
    if (n === 0) return 0;
    if (this.convergedAt !== null) return this.sumSince / (this.pulls - this.convergedAt);
    const { mt, mr, slope } = fitTrendLine(this.taus, this.rewards, max(0, n - window), n);
    if (slope === null) return mr;
    return min(1, max(0, mr + max(0, slope) * (t - mt)));
  }

  /** An independent copy (the same observations kept, the same detector state). */
  clone(): TiUcbArm {
    const c = new TiUcbArm();
    c.offset = this.offset;
    c.taus = this.taus.slice();
    c.rewards = this.rewards.slice();
    c.convergedAt = this.convergedAt;
    c.run = this.run;
    c.sumSince = this.sumSince;
    return c;
  }

  private drop(count: number): void {
    this.taus.splice(0, count);
    this.rewards.splice(0, count);
    this.offset += count;
  }
}

/**
 * One arm's TI-UCB index at time t: its predicted reward (optimistically 1 before any observation) plus
 * c·√(ln n / n_a), with n the pulls of all arms and n_a this arm's.
 */
export const tiUcbIndex = (arm: TiUcbArm, t: number, n: number, na: number, p: TiUcbParams): number =>
  (arm.pulls === 0 ? 1 : arm.predict(t, p.window)) + p.c * sqrt(log(max(n, 1)) / na);

/** The TI-UCB index of every arm at round t (t ≥ 1): prediction + c·√(ln t / n); +∞ for arms in warm-up. */
export function tiUcbIndices(arms: readonly TiUcbArm[], t: number, p: TiUcbParams): number[] {
  return arms.map((arm) => (arm.pulls < p.warmPulls ? Infinity : tiUcbIndex(arm, t, t, arm.pulls, p)));
}

/** Deterministic TI-UCB choice over candidate arm indices: warm-up round-robin (fewest pulls first), then argmax. */
export function decideTiUcb(arms: readonly TiUcbArm[], t: number, candidates: readonly number[], p: TiUcbParams): { arm: number; index: number[] } {
  const index = tiUcbIndices(arms, t, p);
  let best = candidates[0];
  for (const a of candidates) {
    const better = index[a] > index[best] || (index[a] === Infinity && index[best] === Infinity && arms[a].pulls < arms[best].pulls);
    if (better) best = a;
  }
  return { arm: best, index };
}
