import { createRng, DEFAULT_OBJECTIVE } from '@app/bandits';
import { type DuelDataset } from './duel-dataset.js';
import { ReplayPolicy } from './policies.js';
import { seededOrder } from './run.js';
import { CURVE_POINTS } from './run-metrics.js';

export interface DuelMetrics {
  rounds: number;
  /** Σ (2·max u − u(a) − u(b)) / 2 with u = (grade − 1) / 9, the F1 definition of §7 on real grades. */
  regret: number;
  /**
   * The least regret two *different* models can have: Σ (u_best − u_second) / 2. Duels show two models, so regret
   * grows at least this fast; learning is measured by the excess above it.
   */
  floor: number;
  curve: { round: number; regret: number }[];
  /** Share of duels that were of two different models. */
  distinct: number;
}

/**
 * Duelling replay on a pairwise file: per prompt, a pair among the models graded on it; the policy learns from the
 * recorded preference only (never from the grades, which serve only to measure regret). fgts-cdb is the service's
 * duel (ReplayPolicy → decidePolicy); `random` is the reference of uniform pairs of different models (the service
 * serves duels with fgts-cdb only).
 */
export function runDuelReplay(ds: DuelDataset, features: readonly Float64Array[], algorithm: 'fgts-cdb' | 'random', seed: number, limit?: number): DuelMetrics {
  const K = ds.models.length;
  const d = features[0].length;
  const order = seededOrder(ds.prompts.length, seed).slice(0, limit ?? ds.prompts.length);
  const rng = createRng(seed * 2654435761);
  const policy =
    algorithm === 'fgts-cdb' ? new ReplayPolicy({ algorithm, arms: ds.models, dim: d, objective: DEFAULT_OBJECTIVE, params: {}, mode: 'duel' }) : null;
  const every = Math.max(1, Math.floor(order.length / CURVE_POINTS));
  const curve: DuelMetrics['curve'] = [];
  let regret = 0;
  let floor = 0;
  let distinct = 0;
  order.forEach((i, t) => {
    const p = ds.prompts[i];
    const x = features[i];
    let a: number;
    let b: number;
    if (!policy) {
      a = p.present[rng.int(p.present.length)];
      do b = p.present[rng.int(p.present.length)];
      while (b === a);
    } else {
      [a, b] = policy.choose(x, t, rng, p.present).arms;
      policy.decided([a, b], x);
    }
    const u = (k: number) => (p.utility[k] - 1) / 9;
    const best = Math.max(...p.present.map(u));
    regret += (2 * best - u(a) - u(b)) / 2;
    const sorted = p.present.map(u).sort((x, y) => y - x);
    floor += (sorted[0] - sorted[1]) / 2;
    if (a !== b) distinct++;
    const pref = p.pref[a * K + b];
    if (policy && !Number.isNaN(pref)) policy.observe([a, b], x, t, [], pref);
    if ((t + 1) % every === 0 || t === order.length - 1) curve.push({ round: t + 1, regret });
  });
  return { rounds: order.length, regret, floor, curve, distinct: distinct / order.length };
}
