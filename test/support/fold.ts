import { appendFileSync } from 'node:fs';
import { headIndex } from '@app/bandits';
import { type LearningDelta, sumDeltas } from '@app/learning';
import { PolicyStateStore } from '@app/store';
import { Redis } from 'ioredis';
import { relErr } from '../../libs/bandits/testing/rel-err.js';

/**
 * The fault tests' yardstick: what the policy state must be after the accepted events, folded one by one with
 * the pure learning code (no Redis, no worker), and the worst relative difference from the live state.
 */

/** A decision the api answered (caller features, so the test knows x). */
export interface Routed {
  id: string;
  arm: string;
  x: number[];
}
/** An accepted event: a reward (feedback) or a reading (joules, latency). */
export type Accepted = { decisionId: string; reward: number } | { decisionId: string; joules: number; latencyMs: number };

/** Every decision counts once, every accepted reward once ("all" aggregation), every reading once. */
export function sequentialFold(dim: number, decisions: readonly Routed[], events: readonly Accepted[]): Map<string, Float64Array> {
  const byId = new Map(decisions.map((d) => [d.id, d]));
  const items: LearningDelta[] = decisions.map((d) => ({ kind: 'decision', arm: d.arm, x: d.x }));
  for (const e of events) {
    const d = byId.get(e.decisionId);
    if (!d) throw new Error(`event for unknown decision ${e.decisionId}`);
    if ('reward' in e) items.push({ kind: 'observation', arm: d.arm, x: d.x, head: headIndex.quality, value: e.reward });
    else {
      items.push({ kind: 'observation', arm: d.arm, x: d.x, head: headIndex.energy, value: e.joules });
      items.push({ kind: 'observation', arm: d.arm, x: d.x, head: headIndex.latency, value: e.latencyMs });
    }
  }
  return sumDeltas(dim, items);
}

/** The policy's learning state as the workers left it in Redis. */
export async function liveState(redisUrl: string, prefix: string, policy: string): Promise<Map<string, Float64Array>> {
  const redis = new Redis(redisUrl);
  try {
    const store = new PolicyStateStore(redis, prefix);
    return (await store.read(store.policyTarget(policy))).arms;
  } finally {
    await redis.quit();
  }
}

/** Largest relative error over the arms of `expected` (Infinity when an arm is missing). */
export function worstRelErr(actual: Map<string, Float64Array>, expected: Map<string, Float64Array>): number {
  let worst = 0;
  for (const [arm, exp] of expected) {
    const got = actual.get(arm);
    worst = Math.max(worst, got ? relErr(got, exp) : Infinity);
  }
  return worst;
}

/** One row of the README's fault table; appended as a JSON line to FAULT_RESULTS_FILE when it is set. */
export interface FaultResult {
  scenario: string;
  injected: string;
  events: number;
  lost: number;
  duplicated: number;
  maxLagMs: number | null;
  duringFault: string;
}
export function recordFaultResult(r: FaultResult): void {
  const file = process.env.FAULT_RESULTS_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(r)}\n`);
}
