import { DEFAULT_DETECTOR, detectorStep, type DetectorParams } from './change-detector.js';

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
 * Order-dependent (§11): one writer per arm on the ordered event stream.
 */
export class TiUcbArm {
  readonly taus: number[] = [];
  readonly rewards: number[] = [];
  convergedAt: number | null = null;
  private run = 0;
  private sumSince = 0;

  get pulls(): number {
    return this.rewards.length;
  }

  observe(tau: number, r: number, p: DetectorParams): void {
    this.taus.push(tau);
    this.rewards.push(r);
    if (this.convergedAt !== null) {
      this.sumSince += r;
      return;
    }
    const n = this.rewards.length;
    this.run = detectorStep(this.taus, this.rewards, n, this.run, p);
    if (this.run >= p.checks) {
      this.convergedAt = n - p.window;
      for (let i = this.convergedAt; i < n; i++) this.sumSince += this.rewards[i];
    }
  }

  /** Predicted reward at round t: the window's line (slope clipped at ≥ 0) or, once converged, the mean since. */
  predict(t: number, window: number): number {
    const n = this.rewards.length;
    if (n === 0) return 0;
    if (this.convergedAt !== null) return this.sumSince / (n - this.convergedAt);
    const lo = max(0, n - window);
    const m = n - lo;
    let mt = 0;
    let mr = 0;
    for (let i = lo; i < n; i++) {
      mt += this.taus[i];
      mr += this.rewards[i];
    }
    mt /= m;
    mr /= m;
    let stt = 0;
    let str = 0;
    for (let i = lo; i < n; i++) {
      const dt = this.taus[i] - mt;
      stt += dt * dt;
      str += dt * (this.rewards[i] - mr);
    }
    if (!(stt > 0)) return mr;
    const a = max(0, str / stt);
    return min(1, max(0, mr + a * (t - mt)));
  }
}

/** The TI-UCB index of every arm at round t (t ≥ 1): prediction + c·√(ln t / n); +∞ for arms in warm-up. */
export function tiUcbIndices(arms: readonly TiUcbArm[], t: number, p: TiUcbParams): number[] {
  return arms.map((arm) =>
    arm.pulls < p.warmPulls ? Infinity : arm.predict(t, p.window) + p.c * sqrt(log(max(t, 1)) / arm.pulls),
  );
}

/** Deterministic TI-UCB choice over candidate arm indices: warm-up round-robin (fewest pulls first), then argmax. */
export function decideTiUcb(arms: readonly TiUcbArm[], t: number, candidates: readonly number[], p: TiUcbParams): { arm: number; index: number[] } {
  const index = tiUcbIndices(arms, t, p);
  let best = candidates[0];
  for (const a of candidates) {
    const better =
      index[a] > index[best] || (index[a] === Infinity && index[best] === Infinity && arms[a].pulls < arms[best].pulls);
    if (better) best = a;
  }
  return { arm: best, index };
}
