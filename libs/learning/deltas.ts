import {
  armStatsLength,
  emptyArmStats,
  finish,
  packArmStats,
  recordCorrection,
  recordDecision,
  recordObservation,
  type ArmStats,
  type Steps,
} from '@app/bandits';

/** A learning item in the form both the worker and a rebuild fold: what to add to which arm. */
export type LearningDelta =
  | { kind: 'decision'; arm: string; x: readonly number[] }
  | { kind: 'observation'; arm: string; x: readonly number[]; head: number; value: number }
  /** Moves an observation already counted by `value` (a measurement replacing a provisional estimate). */
  | { kind: 'correction'; arm: string; x: readonly number[]; head: number; value: number };

/**
 * Sums items into one packed delta blob per arm (layout of packArmStats), so a micro-batch costs one Redis blob
 * update per arm instead of one per event.
 */
export function sumDeltas(d: number, items: Iterable<LearningDelta>): Map<string, Float64Array> {
  return finish(sumDeltasSteps(d, items));
}

/** sumDeltas in steps: one per item (O(d²) for a decision). */
export function* sumDeltasSteps(d: number, items: Iterable<LearningDelta>): Steps<Map<string, Float64Array>> {
  const acc = new Map<string, ArmStats>();
  for (const it of items) {
    if (it.x.length !== d) throw new Error(`context of length ${it.x.length} in a policy of dim ${d}`);
    let s = acc.get(it.arm);
    if (!s) acc.set(it.arm, (s = emptyArmStats(d)));
    if (it.kind === 'decision') recordDecision(s, it.x);
    else if (it.kind === 'correction') recordCorrection(s, it.x, it.head, it.value);
    else recordObservation(s, it.x, it.head, it.value);
    yield;
  }
  const out = new Map<string, Float64Array>();
  for (const [arm, s] of acc) out.set(arm, packArmStats(s, new Float64Array(armStatsLength(d))));
  return out;
}
