import { decideBetaTs } from '../beta-ts.js';
import { emptyArmStats, recordDecision, recordObservation } from '../arm-stats.js';
import { compileLinearModel } from '../linear-model.js';
import { DEFAULT_OBJECTIVE, headIndex } from '../objective.js';
import { createRng } from '../prng.js';

const { max } = Math;

/** ALGORITHMS.md §2a B1: Bernoulli arms with fixed means, Beta(1, 1) Thompson sampling through the service's path. */
export function runBetaTs(seed: number, means: readonly number[], T = 5000): { regret: number; bestShare: number } {
  const rng = createRng(31_000 + seed);
  const stats = means.map(() => emptyArmStats(1));
  const x = Float64Array.of(1);
  const all = means.map((_, i) => i);
  const top = max(...means);
  const best = means.indexOf(top);
  let regret = 0;
  let hits = 0;
  for (let t = 0; t < T; t++) {
    const model = compileLinearModel(1, stats, [], DEFAULT_OBJECTIVE, { ridge: 1, priorWeight: 0 });
    const { arm } = decideBetaTs(model, x, all, { epsilon: 0, propensityDraws: 0 }, rng);
    regret += top - means[arm];
    if (arm === best) hits++;
    recordDecision(stats[arm], x);
    recordObservation(stats[arm], x, headIndex.quality, rng.next() < means[arm] ? 1 : 0);
  }
  return { regret, bestShare: hits / T };
}
