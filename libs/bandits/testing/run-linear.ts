import { emptyArmStats, recordDecision, recordObservation, type ArmStats } from '../arm-stats.js';
import { decideLinTs } from '../lin-ts.js';
import { type ArmPrior, compileLinearModel } from '../linear-model.js';
import { decideLinUcb } from '../linucb.js';
import { DEFAULT_OBJECTIVE, headIndex } from '../objective.js';
import { createRng } from '../prng.js';
import { makeLinearEnv } from './linear-env.js';

export interface RunResult {
  regret: number;
  earlyRegret: number;
  bestShare: number;
}

/**
 * One seeded LinUCB (or linear TS) run on the L1 environment. `delay` holds each reward back D rounds; `aAtDecision` chooses
 * whether x xᵀ enters A when the decision is made (ALGORITHMS.md §13) or together with the reward (naive).
 */
export function runLinUcbL1(
  seed: number,
  opts: {
    alpha: number;
    T?: number;
    delay?: number;
    aAtDecision?: boolean;
    /** Linear Thompson sampling with this posterior scale instead of LinUCB. */
    tsScale?: number;
    /** PILOT warm start: the quality prior of each arm, built from the environment's true parameters. */
    prior?: (theta: Float64Array[], rng: ReturnType<typeof createRng>) => ArmPrior[];
    /** Regret is also reported over the first `early` rounds. */
    early?: number;
  },
): RunResult {
  const T = opts.T ?? 5000;
  const delay = opts.delay ?? 0;
  const aAtDecision = opts.aAtDecision ?? true;
  const envRng = createRng(1000 + seed);
  const env = makeLinearEnv(5, 6, 0.1, envRng);
  const rng = createRng(seed * 7919 + 17);
  const stats: ArmStats[] = Array.from({ length: env.k }, () => emptyArmStats(env.d));
  const all = Array.from({ length: env.k }, (_, i) => i);
  const priors = opts.prior ? opts.prior(env.theta, createRng(9000 + seed)) : [];
  let earlyRegret = 0;
  const pending: { due: number; a: number; x: Float64Array; r: number }[] = [];
  let regret = 0;
  let best = 0;
  for (let t = 0; t < T; t++) {
    while (pending.length > 0 && pending[0].due <= t) {
      const p = pending.shift()!;
      if (!aAtDecision) recordDecision(stats[p.a], p.x);
      recordObservation(stats[p.a], p.x, headIndex.quality, p.r);
    }
    const x = env.context(envRng);
    const model = compileLinearModel(env.d, stats, priors, DEFAULT_OBJECTIVE, { ridge: 1, priorWeight: 0 });
    // The naive reference (ALGORITHMS.md sims/delay.py) is deterministic: argmax with ties to the first arm.
    const arm =
      opts.tsScale !== undefined
        ? decideLinTs(model, x, all, { v: opts.tsScale, epsilon: 0, propensityDraws: 0 }, rng).arm
        : aAtDecision
          ? decideLinUcb(model, x, all, { alpha: opts.alpha, epsilon: 0 }, rng).arm
          : firstArgmax(decideLinUcb(model, x, all, { alpha: opts.alpha, epsilon: 0 }, rng).estimates.map((e) => e.score));
    let top = -Infinity;
    let topArm = 0;
    for (let a = 0; a < env.k; a++) {
      const v = env.expected(a, x);
      if (v > top) {
        top = v;
        topArm = a;
      }
    }
    regret += top - env.expected(arm, x);
    if (t < (opts.early ?? 0)) earlyRegret += top - env.expected(arm, x);
    if (arm === topArm) best++;
    const r = env.reward(arm, x, envRng);
    if (aAtDecision) recordDecision(stats[arm], x);
    if (delay === 0) {
      if (!aAtDecision) recordDecision(stats[arm], x);
      recordObservation(stats[arm], x, headIndex.quality, r);
    } else pending.push({ due: t + delay, a: arm, x, r });
  }
  return { regret, earlyRegret, bestShare: best / T };
}

function firstArgmax(v: number[]): number {
  let k = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[k]) k = i;
  return k;
}
