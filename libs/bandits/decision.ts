/** What a policy reports about each candidate at decision time (logged with the decision, returned to callers). */
export interface ArmEstimate {
  /** Index of the arm in the policy's arm list. */
  arm: number;
  quality: number;
  energy: number;
  cost: number;
  latency: number;
  /** Scalarised mean under the current weights. */
  mean: number;
  /** Exploration bonus (α·‖x‖_{A⁻¹} for LinUCB; 0 for greedy and random). */
  bonus: number;
  score: number;
}

export interface Decision {
  /** Index of the chosen arm in the policy's arm list. */
  arm: number;
  propensity: number;
  estimates: ArmEstimate[];
}
