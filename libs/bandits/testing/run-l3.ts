import { emptyArmStats, recordDecision, recordObservation, type ArmStats } from '../arm-stats.js';
import { compileLinearModel } from '../linear-model.js';
import { decideLinUcb } from '../linucb.js';
import { headIndex } from '../objective.js';
import { createRng } from '../prng.js';

const { min } = Math;

/**
 * ALGORITHMS.md §15 L3 / G1: one-hot task context (easy, hard), three models, quality and energy learnt as
 * separate heads and scalarised at decision time with weights (1−λ, λ). Returns the optimal-arm share over the
 * last 1000 queries and the smallest index ever seen on an untried arm.
 */
export function runL3(seed: number, lambda: number, opts: { alpha?: number; ridge?: number; T?: number } = {}) {
  const T = opts.T ?? 3000;
  const alpha = opts.alpha ?? 1;
  const ridge = opts.ridge ?? 1;
  const acc = [
    [0.8, 0.3],
    [0.85, 0.65],
    [0.9, 0.8],
  ];
  const energy = [0.05, 0.3, 1.0];
  const rng = createRng(50_000 + seed);
  const stats: ArmStats[] = acc.map(() => emptyArmStats(2));
  const all = [0, 1, 2];
  const weights = { quality: 1 - lambda, energy: lambda, cost: 0, latency: 0 };
  const expected = (a: number, task: number) => (1 - lambda) * acc[a][task] + lambda * (1 - energy[a]);
  let lastBest = 0;
  let regret = 0;
  let minUntriedIndex = Infinity;
  for (let t = 0; t < T; t++) {
    const task = rng.next() < 0.5 ? 0 : 1;
    const x = new Float64Array(2);
    x[task] = 1;
    const model = compileLinearModel(2, stats, [], weights, { ridge, priorWeight: 0 });
    const dec = decideLinUcb(model, x, all, { alpha, epsilon: 0 }, rng);
    for (const e of dec.estimates) if (stats[e.arm].pulls === 0) minUntriedIndex = min(minUntriedIndex, e.score);
    const best = [0, 1, 2].reduce((b, a) => (expected(a, task) > expected(b, task) ? a : b), 0);
    regret += expected(best, task) - expected(dec.arm, task);
    if (t >= T - 1000 && dec.arm === best) lastBest++;
    const q = rng.next() < acc[dec.arm][task] ? 1 : 0;
    const e = energy[dec.arm] + 0.02 * rng.normal();
    recordDecision(stats[dec.arm], x);
    recordObservation(stats[dec.arm], x, headIndex.quality, q);
    recordObservation(stats[dec.arm], x, headIndex.energy, e);
  }
  return { share: lastBest / 1000, regret, minUntriedIndex };
}
