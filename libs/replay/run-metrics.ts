export interface RunMetrics {
  rounds: number;
  quality: number;
  costUsd: number;
  energyJ: number;
  /** Σ over rounds of (best fixed model's quality − ours). */
  regretVsBestSingle: number;
  /** Σ over rounds of (per-prompt best quality − ours). */
  regretVsOracle: number;
  /** Share of served responses per model. */
  share: number[];
  /** Running mean quality at CURVE_POINTS evenly spaced rounds. */
  curve: { round: number; quality: number }[];
}

export const CURVE_POINTS = 50;
