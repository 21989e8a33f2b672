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
  /** Largest running mean cost and energy per request from round RUNNING_MEAN_FROM on (what a budget bounds). */
  maxRunningMean: { costUsd: number; energyJ: number };
}

/** Rounds before the running mean of spend is held to a budget (a pass's first requests explore). */
export const RUNNING_MEAN_FROM = 300;

export const CURVE_POINTS = 50;
