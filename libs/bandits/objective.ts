/**
 * The objective heads learnt for every arm, and the operator's trade-off between them. Each head is its own
 * regression on the shared context statistics; the weights only enter at decision time (ALGORITHMS.md §0), so
 * changing them acts on the next decision without relearning.
 */
export const HEADS = ['quality', 'energy', 'cost', 'latency'] as const;
export type Head = (typeof HEADS)[number];
export const HEAD_COUNT = HEADS.length;
export const headIndex: Record<Head, number> = { quality: 0, energy: 1, cost: 2, latency: 3 };

/** Non-negative weights. Quality is rewarded; energy (J), cost (USD) and latency (ms) are penalised. */
export interface ObjectiveWeights {
  quality: number;
  energy: number;
  cost: number;
  latency: number;
}

export const DEFAULT_OBJECTIVE: ObjectiveWeights = { quality: 1, energy: 0, cost: 0, latency: 0 };

/** Sign of each head in the score: +quality, −energy, −cost, −latency. */
export const HEAD_SIGN: readonly number[] = [1, -1, -1, -1];
