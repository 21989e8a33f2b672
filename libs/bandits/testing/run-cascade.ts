import {
  compileEscalation,
  decideEscalation,
  type EscalationParams,
  emptyEscalationStats,
  escalationEstimate,
  recordEscalationOutcome,
} from '../escalation.js';
import { evenKnots, hatBasis } from '../hat-basis.js';
import { createRng } from '../prng.js';

const { exp, log } = Math;

/** Test C1's environment (ALGORITHMS.md §14): one confidence signal s ~ U(0,1), P(first correct | s) = σ(8(s − ½)). */
export const C1 = { qSecond: 0.9, cFirst: 1, cSecond: 10, lambda: 0.02 } as const;
export const c1Correct = (s: number): number => 1 / (1 + exp(-8 * (s - 0.5)));
/** τ* solves σ(8(τ − ½)) = q₂ − λ·c₂. */
export const c1TauStar = 0.5 + log((C1.qSecond - C1.lambda * C1.cSecond) / (1 - C1.qSecond + C1.lambda * C1.cSecond)) / 8;

/** Expected reward per query of "escalate iff s < τ", by a fine grid over s. */
export function c1Value(tau: number): number {
  const n = 100_001;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const s = i / (n - 1);
    v += s < tau ? C1.qSecond - C1.lambda * (C1.cFirst + C1.cSecond) : c1Correct(s) - C1.lambda * C1.cFirst;
  }
  return v / n;
}

export interface C1Run {
  /** Learned threshold: the share of s ∈ [0,1] where the mean gain exceeds the extra call's price. */
  tau: number;
  /** Realised reward per query. */
  value: number;
  escalationRate: number;
}

const KNOTS = evenKnots(0, 1, 6);
/** Features: an intercept plus the hat basis of s. */
function features(s: number, out: Float64Array): Float64Array {
  out[0] = 1;
  hatBasis(s, KNOTS, out, 1);
  return out;
}
export const C1_DIM = 1 + KNOTS.length;

/**
 * One seeded run of test C1 with the learned escalation policy: the model is recompiled after every query, feedback
 * arrives at once, a ρ-share of escalations is audited (the first answer judged as well, learnt unweighted: see
 * escalation.ts on censoring).
 */
export function runC1(seed: number, params: EscalationParams, audit = 0.05, T = 5000): C1Run {
  const rng = createRng(seed);
  const stats = emptyEscalationStats(C1_DIM);
  const phi = new Float64Array(C1_DIM);
  const threshold = C1.lambda * C1.cSecond;
  let total = 0;
  let escalations = 0;
  let model = compileEscalation(stats, params);
  for (let t = 0; t < T; t++) {
    const s = rng.next();
    features(s, phi);
    const d = decideEscalation(model, phi, threshold, params, rng);
    const firstCorrect = rng.next() < c1Correct(s) ? 1 : 0;
    const secondCorrect = rng.next() < C1.qSecond ? 1 : 0;
    if (d.escalate) {
      escalations++;
      total += secondCorrect - C1.lambda * (C1.cFirst + C1.cSecond);
      recordEscalationOutcome(stats, 'second', phi, secondCorrect);
      if (rng.next() < audit) recordEscalationOutcome(stats, 'first', phi, firstCorrect);
    } else {
      total += firstCorrect - C1.lambda * C1.cFirst;
      recordEscalationOutcome(stats, 'first', phi, firstCorrect);
    }
    model = compileEscalation(stats, params);
  }
  const grid = 1001;
  let above = 0;
  for (let i = 0; i < grid; i++) {
    const e = escalationEstimate(model, features(i / (grid - 1), phi), params.v);
    if (e.second - e.first > threshold) above++;
  }
  return { tau: above / grid, value: total / T, escalationRate: escalations / T };
}
